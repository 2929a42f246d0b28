#include "core/passwords.h"

#include <sodium.h>

#include <stdexcept>

namespace core {

namespace {

// OWASP's Argon2id minimum: 19 MiB, 2 iterations — about 30 ms here.
constexpr unsigned long long kOpsLimit = 2;
constexpr std::size_t kMemLimit = 19 * 1024 * 1024;

}  // namespace

std::string hash_password(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kOpsLimit, kMemLimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("password hashing ran out of memory");
  }
  return out;
}

bool verify_password(const std::string& hash, std::string_view password) {
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

void verify_password_decoy(std::string_view password) {
  static const std::string decoy = hash_password("decoy password for unknown accounts");
  (void)verify_password(decoy, password);
}

}  // namespace core
