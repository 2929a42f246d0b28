// Applications and their credentials (SPEC §2, §6): create with fresh credentials shown once,
// read with masked previews, rotate with an optional grace period, reveal the webhook secret,
// and the app-auth guard of the OTP API. Secrets are stored only as keyed hashes or
// ciphertext. Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/accounts.h"
#include "core/auth_cache.h"
#include "core/pagination.h"
#include "core/policy.h"
#include "storage/store.h"

namespace core {

struct Application {
  std::string id;
  std::string developer_id;
  std::string project_id;
  std::string name;
  std::string environment;  // live | test
  std::string status;       // active | disabled
  std::string client_id;
  std::string client_secret_preview;
  std::string api_key_preview;
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> rotated_at;
  // The OTP policy set with PUT …/policy (SPEC §15); nullptr: the server's defaults.
  std::shared_ptr<const OtpPolicy> policy{};
};

// An application's policy as answered: the fields and the name its previews render.
struct PolicyView {
  OtpPolicy policy;
  std::string app_name;
};

// The only value that ever carries the client secret and API key in plaintext.
struct CreatedApplication {
  Application application;
  std::string client_secret;
  std::string api_key;
  std::string webhook_secret;
};

struct Rotation {
  std::string type;  // secret | api | webhook_secret
  std::string value;
  std::string rotated_at;
};

class ApplicationService {
 public:
  // `defaults`: the policy of an application that has none set (--otp-ttl-seconds, --sms-template).
  ApplicationService(storage::Store& db, const Clock& clock, Random& random, const ServerKey& key,
                     const PlanCatalog& plans, OtpPolicy defaults = default_policy(300));

  Result<Page<Application>> list(const Developer& owner, const std::optional<std::string>& project_id,
                                 const PageRequest& page);
  Result<CreatedApplication> create(const Developer& owner, const nlohmann::json& body);
  Result<Application> get(const Developer& owner, const std::string& id);
  Result<Application> update(const Developer& owner, const std::string& id, const nlohmann::json& body);
  Status remove(const Developer& owner, const std::string& id);
  Result<Rotation> rotate(const Developer& owner, const std::string& id, const std::string& type,
                          const nlohmann::json& body);
  Result<std::string> webhook_secret(const Developer& owner, const std::string& id);
  // GET and PUT /v1/applications/:id/policy: a PUT replaces the whole policy (fields left out
  // take their defaults) and governs the sends after it.
  Result<PolicyView> policy(const Developer& owner, const std::string& id);
  Result<PolicyView> put_policy(const Developer& owner, const std::string& id, const nlohmann::json& body);

  // App auth (SPEC §2): the API key, then the client id of the key's application, then the
  // client secret; every mismatch 401, a disabled application 403.
  Result<Application> authenticate(std::string_view client_id, std::string_view client_secret,
                                   std::string_view api_key);
  // The API-key-only mode of GET /v1/users/:phoneNumber.
  Result<Application> authenticate_api_key(std::string_view api_key);
  // Live webhook secrets of an application: the current one first, then any in grace.
  std::vector<std::string> webhook_secrets(const std::string& app_id);

 private:
  struct Credential;
  Credential make_credential(const std::string& type, const std::string& environment, const std::string& now);
  std::string api_key_hash(std::string_view api_key) const;
  bool secret_matches(const std::string& verifier, std::string_view secret) const;
  std::optional<std::string> decrypt(const std::string& ciphertext) const;
  // What authenticating with one API key needs: its application, when the key stops working
  // (set while it is rotated out in grace), and the live client-secret verifiers.
  struct SecretVerifier {
    std::string verifier;
    std::optional<std::string> expires_at;
  };
  struct AuthRecord {
    Application app;
    std::optional<std::string> key_expires_at;
    std::vector<SecretVerifier> secrets;
  };
  Result<std::shared_ptr<const AuthRecord>> load_for_auth(std::string_view api_key);

  storage::Store& db_;
  const Clock& clock_;
  Random& random_;
  const PlanCatalog& plans_;
  OtpPolicy defaults_;
  ServerKey::Bytes api_key_key_;
  ServerKey::Bytes secret_key_;
  ServerKey::Bytes webhook_key_;
  std::shared_ptr<AuthCache<std::shared_ptr<const AuthRecord>>> auth_cache_ =
      std::make_shared<AuthCache<std::shared_ptr<const AuthRecord>>>(std::chrono::seconds(1), 4096);
};

// "ph_live_secret_…3f9a": the prefix up to the last '_' and the last four characters.
std::string credential_preview(const std::string& value);

}  // namespace core
