// ID tokens: issuing our own (EdDSA) and verifying ours or Firebase's (RS256). The issuer
// decides the one algorithm accepted, so no token can choose its own verification.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/firebase_certs.h"
#include "core/jwt.h"

namespace core {

// Longest ID token looked at (bytes). Real ones are about 1 KiB; anything longer is refused
// before it is split, decoded or parsed, so an oversized header buys no work.
inline constexpr std::size_t kMaxIdTokenBytes = 8192;

struct TokenOptions {
  std::string issuer = "cobinar-phone";        // `iss` and `aud` of our tokens
  std::chrono::seconds lifetime{3600};          // `exp` - `iat` of our tokens
  std::chrono::seconds clock_skew{60};          // tolerated for exp, iat, nbf, auth_time
  std::string firebase_project_id;              // empty: Firebase tokens are not accepted
  std::string firebase_certs_path;              // kid → PEM certificate JSON
};

struct VerifiedToken {
  enum class Issuer { kLocal, kFirebase };
  Issuer issuer = Issuer::kLocal;
  std::string subject;  // developer id (local) or Firebase uid
  std::string email;
  std::string name;
  bool email_verified = false;
};

class TokenService {
 public:
  TokenService(const Clock& clock, const ServerKey& key, TokenOptions options);

  std::string issue(const std::string& developer_id, const std::string& email, TimePoint auth_time) const;
  // 401 UNAUTHENTICATED for anything but a valid, current token of an accepted issuer.
  Result<VerifiedToken> verify(std::string_view token) const;

  std::chrono::seconds lifetime() const { return options_.lifetime; }
  const TokenOptions& options() const { return options_; }
  // Re-reads --firebase-certs now (SIGHUP); the number of keys it holds, or nullopt when
  // Firebase tokens are not accepted.
  std::optional<std::size_t> reload_firebase_certs();

 private:
  Result<VerifiedToken> verify_local(const DecodedJwt& jwt) const;
  Result<VerifiedToken> verify_firebase(const DecodedJwt& jwt) const;
  // exp/iat/nbf/auth_time against the clock; an error message or empty.
  std::string check_times(const nlohmann::json& claims, bool require_auth_time) const;

  const Clock& clock_;
  TokenOptions options_;
  Ed25519Jwt signer_;
  std::string firebase_issuer_;
  std::unique_ptr<FirebaseCertificates> firebase_certs_;
};

}  // namespace core
