// Password hashing with Argon2id (libsodium crypto_pwhash_str; parameters are stored in the
// hash string, so they can be raised later without breaking old hashes). Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace core {

std::string hash_password(std::string_view password);
bool verify_password(const std::string& hash, std::string_view password);
// Spends the same time as verify_password on a non-matching account, so an unknown email
// cannot be told from a wrong password by timing.
void verify_password_decoy(std::string_view password);

}  // namespace core
