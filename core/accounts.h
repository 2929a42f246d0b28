// Developer accounts: sign-up, login, refresh-token rotation, logout, the console guard
// (`authenticate`), the profile, and the operator's account commands. Thread-safe.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/plans.h"
#include "core/random.h"
#include "core/rate_limiter.h"
#include "core/tokens.h"
#include "storage/store.h"

namespace core {

struct Developer {
  std::string id;
  std::string email;
  std::string name;
  std::string company;
  std::string plan;
  std::string virtual_phone;  // E.164
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> disabled_at;  // set while the operator has disabled the account
};

struct Session {
  std::string id_token;
  std::string refresh_token;
  long long expires_in = 0;  // seconds until id_token expires
  Developer developer;
};

struct AccountOptions {
  bool signup_open = false;                                  // --signup open
  int login_rate_limit = 10;                                 // attempts per email and per address
  std::chrono::seconds login_window{15 * 60};
  std::chrono::seconds refresh_lifetime{30 * 24 * 3600};     // a refresh token's life
};

struct NewDeveloper {
  std::string email;
  std::string name;
  std::string company;
  std::optional<std::string> password;
  std::optional<std::string> plan;  // nullopt = the default plan
};

class AccountService {
 public:
  AccountService(storage::Store& db, const Clock& clock, Random& random, const ServerKey& key,
                 const TokenService& tokens, const PlanCatalog& plans, AccountOptions options);

  Result<Session> signup(const nlohmann::json& body);
  Result<Session> login(const nlohmann::json& body, const std::string& client_address);
  Result<Session> refresh(const nlohmann::json& body);
  Status logout(const nlohmann::json& body);

  // The console guard: the developer a bearer token belongs to, or 401.
  Result<Developer> authenticate(std::string_view id_token);

  Result<Developer> update_profile(const Developer& developer, const nlohmann::json& body);

  // Operator commands (CLI).
  Result<Developer> create_developer(const NewDeveloper& request);
  Result<Developer> set_plan(const std::string& email, const std::string& plan);
  Result<std::string> issue_token(const std::string& email);
  std::vector<Developer> list_developers();
  // Same password rules as sign-up; ends every session (refresh token) of the developer.
  Result<Developer> reset_password(const std::string& email, const std::string& password);
  // A disabled developer's ID tokens, refresh tokens and logins are refused (401) from the next
  // request on; disabling also ends every session, so enabling needs a new sign-in (ID tokens
  // that have not expired work again).
  Result<Developer> set_disabled(const std::string& email, bool disabled);

 private:
  Result<Developer> insert_developer(const NewDeveloper& request, const std::optional<std::string>& firebase_uid);
  Session start_session(const Developer& developer, const std::string& family_id, const std::string& auth_time);
  std::string refresh_token_hash(std::string_view token) const;
  Result<Developer> developer_for_firebase(const VerifiedToken& token);

  storage::Store& db_;
  const Clock& clock_;
  Random& random_;
  const TokenService& tokens_;
  const PlanCatalog& plans_;
  AccountOptions options_;
  ServerKey::Bytes refresh_key_;
  std::unique_ptr<RateLimit> login_by_email_;
  std::unique_ptr<RateLimit> login_by_address_;
};

// The key email uniqueness and lookups use: lower-cased.
std::string email_key(std::string_view email);

}  // namespace core
