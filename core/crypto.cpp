#include "core/crypto.h"

#include <sodium.h>

#include "core/random.h"

#include <cstring>

namespace core {

bool crypto_init() {
  // libsodium's own generator (ChaCha20 with fast key erasure, one stream per thread, seeded
  // from getrandom) instead of a getrandom system call for every id, nonce and code: ~5 system
  // calls per OTP request. Must be chosen before sodium_init().
  static const bool chosen = randombytes_set_implementation(&randombytes_internal_implementation) == 0;
  return chosen && sodium_init() >= 0;
}

std::string hex_encode(std::span<const std::uint8_t> bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.pop_back();
  return out;
}

std::optional<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  std::size_t written = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), hex.data(),
                     hex.size(), nullptr, &written, &end) != 0 ||
      written != out.size() || end != hex.data() + hex.size()) {
    return std::nullopt;
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

ServerKey::~ServerKey() { sodium_memzero(master_.data(), master_.size()); }

ServerKey::Bytes ServerKey::derive(std::string_view purpose, std::uint64_t index) const {
  char context[crypto_kdf_CONTEXTBYTES] = {};
  std::memcpy(context, purpose.data(), std::min(purpose.size(), sizeof context));
  Bytes subkey{};
  crypto_kdf_derive_from_key(subkey.data(), subkey.size(), index, context, master_.data());
  return subkey;
}

std::string seal(std::string_view plain, const ServerKey::Bytes& key, Random& random) {
  std::string box(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size(), '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(box.data());
  random.fill(std::span(bytes, crypto_secretbox_NONCEBYTES));
  crypto_secretbox_easy(bytes + crypto_secretbox_NONCEBYTES, reinterpret_cast<const unsigned char*>(plain.data()),
                        plain.size(), bytes, key.data());
  return box;
}

std::optional<std::string> unseal(std::string_view box, const ServerKey::Bytes& key) {
  if (box.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return std::nullopt;
  std::string plain(box.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  const auto* bytes = reinterpret_cast<const unsigned char*>(box.data());
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()), bytes + crypto_secretbox_NONCEBYTES,
                                 box.size() - crypto_secretbox_NONCEBYTES, bytes, key.data()) != 0) {
    return std::nullopt;
  }
  return plain;
}

}  // namespace core
