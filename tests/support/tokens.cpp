#include "tests/support/tokens.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <stdexcept>

#include "storage/key_file.h"

namespace testing {

core::Ed25519Jwt local_signer(const std::string& key_file) {
  const auto bytes = storage::load_or_create_key_file(key_file, {});
  return core::Ed25519Jwt(core::ServerKey(bytes).derive("idtoken"));
}

std::string make_jwt(const nlohmann::json& header, const nlohmann::json& claims,
                     const std::function<std::string(const std::string&)>& sign) {
  const std::string signing_input = core::base64url_encode(header.dump()) + "." + core::base64url_encode(claims.dump());
  return signing_input + "." + core::base64url_encode(sign(signing_input));
}

RsaTestKey::RsaTestKey() {
  key_.reset(EVP_RSA_gen(2048), EVP_PKEY_free);
  if (!key_) throw std::runtime_error("RSA key generation failed");
  std::unique_ptr<X509, decltype(&X509_free)> certificate(X509_new(), X509_free);
  X509_set_version(certificate.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 3600L * 24 * 365 * 30);
  X509_set_pubkey(certificate.get(), key_.get());
  X509_NAME* name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("securetoken.test"), -1,
                             -1, 0);
  X509_set_issuer_name(certificate.get(), name);
  if (X509_sign(certificate.get(), key_.get(), EVP_sha256()) == 0) throw std::runtime_error("X509_sign failed");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(bio.get(), certificate.get());
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  certificate_pem_.assign(data, static_cast<std::size_t>(length));
}

std::string RsaTestKey::sign(const std::string& signing_input) const {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key_.get());
  std::size_t length = 0;
  EVP_DigestSign(context.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(signing_input.data()),
                 signing_input.size());
  std::string signature(length, '\0');
  EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                 reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  signature.resize(length);
  return signature;
}

std::string RsaTestKey::token(const std::string& kid, const nlohmann::json& claims) const {
  return make_jwt({{"alg", "RS256"}, {"kid", kid}, {"typ", "JWT"}}, claims,
                  [this](const std::string& input) { return sign(input); });
}

}  // namespace testing
