// The server key file: 32 random bytes as hex, created with mode 0600 on first start. The key
// never enters the database, so a stolen database alone cannot forge tokens or test OTP hashes.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace storage {

using KeyBytes = std::array<std::uint8_t, 32>;

class KeyFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads the key, or creates it (0600, from `fresh_key`) if the file does not exist.
// Throws KeyFileError with a one-line message.
KeyBytes load_or_create_key_file(const std::string& path, const KeyBytes& fresh_key);

}  // namespace storage
