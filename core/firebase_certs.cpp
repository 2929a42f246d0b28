#include "core/firebase_certs.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace core {

namespace {

std::shared_ptr<EVP_PKEY> public_key_from_certificate(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return nullptr;
  std::unique_ptr<X509, decltype(&X509_free)> certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr),
                                                          X509_free);
  if (!certificate) return nullptr;
  EVP_PKEY* key = X509_get_pubkey(certificate.get());
  if (key == nullptr) return nullptr;
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

}  // namespace

void FirebaseCertificates::reload_if_changed() {
  struct stat info {};
  if (::stat(path_.c_str(), &info) != 0) {
    keys_ = std::make_shared<KeySet>();
    loaded_stamp_.clear();
    return;
  }
  const std::string stamp = std::to_string(info.st_ino) + ":" + std::to_string(info.st_size) + ":" +
                            std::to_string(info.st_mtim.tv_sec) + "." + std::to_string(info.st_mtim.tv_nsec);
  if (stamp == loaded_stamp_) return;

  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  const auto document = nlohmann::json::parse(text.str(), nullptr, false);
  auto keys = std::make_shared<KeySet>();
  if (document.is_object()) {
    for (const auto& [kid, pem] : document.items()) {
      if (!pem.is_string()) continue;
      if (auto key = public_key_from_certificate(pem.get<std::string>())) (*keys)[kid] = std::move(key);
    }
  }
  keys_ = std::move(keys);
  loaded_stamp_ = stamp;
}

std::shared_ptr<EVP_PKEY> FirebaseCertificates::key(const std::string& kid) {
  std::lock_guard lock(mutex_);
  reload_if_changed();
  const auto it = keys_->find(kid);
  return it == keys_->end() ? nullptr : it->second;
}

std::size_t FirebaseCertificates::reload() {
  std::lock_guard lock(mutex_);
  loaded_stamp_.clear();
  reload_if_changed();
  return keys_->size();
}

}  // namespace core
