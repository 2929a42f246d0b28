#include "core/jwt.h"

#include <sodium.h>

#include <memory>

namespace core {

std::string base64url_encode(std::string_view bytes) {
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    kVariant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                        &length, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

std::optional<DecodedJwt> decode_jwt(std::string_view token) {
  const auto first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  const auto header = base64url_decode(token.substr(0, first));
  const auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
  const auto signature = base64url_decode(token.substr(second + 1));
  if (!header || !payload || !signature) return std::nullopt;
  DecodedJwt jwt{nlohmann::json::parse(*header, nullptr, false), nlohmann::json::parse(*payload, nullptr, false),
                 std::string(token.substr(0, second)), *signature};
  if (!jwt.header.is_object() || !jwt.claims.is_object()) return std::nullopt;
  return jwt;
}

namespace {

bool header_alg_is(const DecodedJwt& jwt, std::string_view alg) {
  const auto it = jwt.header.find("alg");
  return it != jwt.header.end() && it->is_string() && it->get_ref<const std::string&>() == alg;
}

}  // namespace

Ed25519Jwt::Ed25519Jwt(const ServerKey::Bytes& seed) {
  crypto_sign_seed_keypair(public_key_.data(), secret_key_.data(), seed.data());
}

std::string Ed25519Jwt::sign(const nlohmann::json& claims) const {
  static const std::string header = base64url_encode(R"({"alg":"EdDSA","typ":"JWT"})");
  const std::string signing_input = header + "." + base64url_encode(claims.dump());
  std::array<unsigned char, crypto_sign_BYTES> signature{};
  crypto_sign_detached(signature.data(), nullptr, reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size(), secret_key_.data());
  return signing_input + "." +
         base64url_encode(std::string_view(reinterpret_cast<const char*>(signature.data()), signature.size()));
}

bool Ed25519Jwt::verify(const DecodedJwt& jwt) const {
  if (!header_alg_is(jwt, "EdDSA") || jwt.signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(jwt.signature.data()),
                                     reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                                     jwt.signing_input.size(), public_key_.data()) == 0;
}

bool verify_rs256(const DecodedJwt& jwt, EVP_PKEY* key) {
  if (key == nullptr || !header_alg_is(jwt, "RS256") || EVP_PKEY_base_id(key) != EVP_PKEY_RSA) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!context || EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1) return false;
  return EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(jwt.signature.data()),
                          jwt.signature.size(), reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                          jwt.signing_input.size()) == 1;
}

}  // namespace core
