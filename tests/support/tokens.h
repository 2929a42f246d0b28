// Token minting for tests: our own EdDSA tokens with any claims (signed with the test
// server's real key), and Firebase-style RS256 tokens from a throwaway RSA key and
// self-signed certificate made here.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/jwt.h"

namespace testing {

// Signs like the server whose key file is `key_file`.
core::Ed25519Jwt local_signer(const std::string& key_file);

// A JWT with exactly this header and these claims, signed by `sign(signing_input)`.
std::string make_jwt(const nlohmann::json& header, const nlohmann::json& claims,
                     const std::function<std::string(const std::string&)>& sign);

class RsaTestKey {
 public:
  RsaTestKey();
  const std::string& certificate_pem() const { return certificate_pem_; }
  std::string sign(const std::string& signing_input) const;  // RSASSA-PKCS1-v1_5 SHA-256
  // A complete RS256 JWT with header {alg: RS256, kid, typ: JWT}.
  std::string token(const std::string& kid, const nlohmann::json& claims) const;

 private:
  std::shared_ptr<EVP_PKEY> key_;
  std::string certificate_pem_;
};

}  // namespace testing
