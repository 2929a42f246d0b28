#include "core/tokens.h"

#include <optional>
#include <utility>

namespace core {

namespace {

Error unauthenticated(std::string message) { return Error{ErrorCode::kUnauthenticated, std::move(message), nullptr}; }

std::string string_claim(const nlohmann::json& claims, const char* name) {
  const auto it = claims.find(name);
  return it != claims.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// `aud` may be a string or an array of strings (RFC 7519 §4.1.3).
bool audience_matches(const nlohmann::json& claims, const std::string& expected) {
  const auto it = claims.find("aud");
  if (it == claims.end()) return false;
  if (it->is_string()) return it->get_ref<const std::string&>() == expected;
  if (!it->is_array()) return false;
  for (const auto& entry : *it) {
    if (entry.is_string() && entry.get_ref<const std::string&>() == expected) return true;
  }
  return false;
}

}  // namespace

TokenService::TokenService(const Clock& clock, const ServerKey& key, TokenOptions options)
    : clock_(clock), options_(std::move(options)), signer_(key.derive("idtoken")) {
  if (!options_.firebase_project_id.empty()) {
    firebase_issuer_ = "https://securetoken.google.com/" + options_.firebase_project_id;
    firebase_certs_ = std::make_unique<FirebaseCertificates>(options_.firebase_certs_path);
  }
}

std::string TokenService::issue(const std::string& developer_id, const std::string& email, TimePoint auth_time) const {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  const auto auth = std::chrono::duration_cast<std::chrono::seconds>(auth_time.time_since_epoch()).count();
  return signer_.sign({{"iss", options_.issuer},
                       {"aud", options_.issuer},
                       {"sub", developer_id},
                       {"email", email},
                       {"iat", now},
                       {"exp", now + options_.lifetime.count()},
                       {"auth_time", auth}});
}

std::string TokenService::check_times(const nlohmann::json& claims, bool require_auth_time) const {
  const double now = std::chrono::duration<double>(clock_.now().time_since_epoch()).count();
  const double skew = static_cast<double>(options_.clock_skew.count());
  // A time claim that is present but not a number is malformed, not absent: a string `nbf`
  // must not switch its own check off.
  std::optional<double> exp, iat, nbf, auth_time;
  for (auto [name, slot] : {std::pair{"exp", &exp}, {"iat", &iat}, {"nbf", &nbf}, {"auth_time", &auth_time}}) {
    const auto it = claims.find(name);
    if (it == claims.end()) continue;
    if (!it->is_number()) return std::string("Token has a non-numeric ") + name + ".";
    *slot = it->get<double>();
  }
  if (!exp || !iat) return "Token lacks exp or iat.";
  if (require_auth_time && !auth_time) return "Token lacks auth_time.";
  if (*exp <= now - skew) return "Token has expired.";
  // Nothing may date from the future beyond the skew: not a token that is not valid yet (nbf),
  // nor one minted or signed in by a clock that runs ahead (iat, auth_time).
  for (auto [name, value] : {std::pair{"iat", iat}, {"nbf", nbf}, {"auth_time", auth_time}}) {
    if (value && *value > now + skew) return std::string("Token ") + name + " is in the future.";
  }
  return {};
}

Result<VerifiedToken> TokenService::verify(std::string_view token) const {
  if (token.size() > kMaxIdTokenBytes) return unauthenticated("ID token is too long.");
  const auto jwt = decode_jwt(token);
  if (!jwt) return unauthenticated("Malformed ID token.");
  const std::string issuer = string_claim(jwt->claims, "iss");
  if (issuer == options_.issuer) return verify_local(*jwt);
  if (firebase_certs_ && issuer == firebase_issuer_) return verify_firebase(*jwt);
  return unauthenticated("ID token has an unknown issuer.");
}

Result<VerifiedToken> TokenService::verify_local(const DecodedJwt& jwt) const {
  // Only our own ID tokens: a verification receipt (typ phone-verification+jwt, ES256, another
  // key ring) carries the same issuer and must never pass as one.
  if (string_claim(jwt.header, "typ") != "JWT") return unauthenticated("Not an ID token of this server.");
  if (!signer_.verify(jwt)) return unauthenticated("ID token signature is invalid.");
  if (!audience_matches(jwt.claims, options_.issuer)) return unauthenticated("ID token has the wrong audience.");
  if (auto problem = check_times(jwt.claims, false); !problem.empty()) return unauthenticated(problem);
  VerifiedToken verified;
  verified.issuer = VerifiedToken::Issuer::kLocal;
  verified.subject = string_claim(jwt.claims, "sub");
  verified.email = string_claim(jwt.claims, "email");
  if (verified.subject.empty()) return unauthenticated("ID token has no subject.");
  return verified;
}

Result<VerifiedToken> TokenService::verify_firebase(const DecodedJwt& jwt) const {
  // Firebase's rule: the header's kid names one current certificate, and only that key is
  // tried. A token without one is refused, never checked against every certificate.
  const std::string kid = string_claim(jwt.header, "kid");
  if (kid.empty()) return unauthenticated("Firebase token has no key id.");
  const auto key = firebase_certs_->key(kid);
  if (!key) return unauthenticated("Firebase token is signed by an unknown key.");
  if (!verify_rs256(jwt, key.get())) return unauthenticated("Firebase token signature is invalid.");
  if (!audience_matches(jwt.claims, options_.firebase_project_id)) {
    return unauthenticated("Firebase token has the wrong audience.");
  }
  if (auto problem = check_times(jwt.claims, true); !problem.empty()) return unauthenticated(problem);
  VerifiedToken verified;
  verified.issuer = VerifiedToken::Issuer::kFirebase;
  verified.subject = string_claim(jwt.claims, "sub");
  verified.email = string_claim(jwt.claims, "email");
  verified.name = string_claim(jwt.claims, "name");
  const auto email_verified = jwt.claims.find("email_verified");
  verified.email_verified = email_verified != jwt.claims.end() && email_verified->is_boolean() && email_verified->get<bool>();
  if (verified.subject.empty() || verified.subject.size() > 128) return unauthenticated("Firebase token has no valid subject.");
  return verified;
}

std::optional<std::size_t> TokenService::reload_firebase_certs() {
  if (!firebase_certs_) return std::nullopt;
  return firebase_certs_->reload();
}

}  // namespace core
