// JSON Web Tokens (RFC 7519) in compact form: base64url, decoding, and the two signature
// algorithms we accept — EdDSA (Ed25519, our own tokens) and RS256 (Firebase). Thread-safe.
#pragma once

#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/crypto.h"

namespace core {

std::string base64url_encode(std::string_view bytes);
// Strict: unpadded base64url only; nullopt for anything else.
std::optional<std::string> base64url_decode(std::string_view text);

struct DecodedJwt {
  nlohmann::json header;   // an object
  nlohmann::json claims;   // an object
  std::string signing_input;  // "<header>.<payload>" as received
  std::string signature;      // raw bytes
};

// Splits and decodes a compact JWT; nullopt if it is not three base64url parts holding JSON
// objects. The signature is not checked here.
std::optional<DecodedJwt> decode_jwt(std::string_view token);

class Ed25519Jwt {
 public:
  // Derives the key pair from a 32-byte seed.
  explicit Ed25519Jwt(const ServerKey::Bytes& seed);
  // A signed compact JWT with header {"alg":"EdDSA","typ":"JWT"}.
  std::string sign(const nlohmann::json& claims) const;
  // True if the header says EdDSA and the signature is ours.
  bool verify(const DecodedJwt& jwt) const;

 private:
  std::array<unsigned char, 32> public_key_{};
  std::array<unsigned char, 64> secret_key_{};
};

// True if the header says RS256 and `key` signed the token.
bool verify_rs256(const DecodedJwt& jwt, EVP_PKEY* key);

}  // namespace core
