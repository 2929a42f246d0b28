// Firebase's public signing certificates, read from the operator's file (Google's
// `kid → PEM certificate` JSON) and re-read whenever the file changes, so keys rotate without a
// restart. Thread-safe.
#pragma once

#include <openssl/evp.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace core {

class FirebaseCertificates {
 public:
  explicit FirebaseCertificates(std::string path) : path_(std::move(path)) {}

  // The public key named `kid`, or null (unknown kid, unreadable or malformed file).
  std::shared_ptr<EVP_PKEY> key(const std::string& kid);
  // Reads the file again now, changed or not (SIGHUP); returns how many keys it holds
  // (0 when it is missing or malformed, which the caller reports).
  std::size_t reload();

 private:
  using KeySet = std::map<std::string, std::shared_ptr<EVP_PKEY>>;
  void reload_if_changed();

  std::string path_;
  std::mutex mutex_;
  std::string loaded_stamp_;  // inode, size and mtime of the file last read
  std::shared_ptr<const KeySet> keys_ = std::make_shared<KeySet>();
};

}  // namespace core
