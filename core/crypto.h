// Small libsodium wrappers: encoding, constant-time comparison, and the server key with its
// derived subkeys. All functions are thread-safe; call crypto_init() once at start-up.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace core {

class Random;

// Initialises libsodium; returns false if it cannot be used.
bool crypto_init();

std::string hex_encode(std::span<const std::uint8_t> bytes);
std::optional<std::string> hex_decode(std::string_view hex);

// Compares in time that depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

// The 32-byte secret from the key file. Every purpose gets its own subkey, so one use can
// never be replayed as another.
class ServerKey {
 public:
  static constexpr std::size_t kSize = 32;
  using Bytes = std::array<std::uint8_t, kSize>;

  explicit ServerKey(const Bytes& master) : master_(master) {}
  ~ServerKey();
  ServerKey(const ServerKey&) = default;
  ServerKey& operator=(const ServerKey&) = default;

  // A 32-byte subkey for `purpose` (≤ 8 characters, e.g. "otp-hmac").
  Bytes derive(std::string_view purpose, std::uint64_t index = 1) const;

 private:
  Bytes master_;
};

// Authenticated encryption of small values at rest (crypto_secretbox): nonce || box.
std::string seal(std::string_view plain, const ServerKey::Bytes& key, Random& random);
// nullopt if the box was not made with this key or was altered.
std::optional<std::string> unseal(std::string_view box, const ServerKey::Bytes& key);

}  // namespace core
