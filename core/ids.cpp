#include "core/ids.h"

#include <array>
#include <cstdint>

#include "core/crypto.h"

namespace core {

std::string new_id(const Clock& clock, Random& random) {
  std::array<std::uint8_t, 16> bytes{};
  random.fill(bytes);
  const auto millis = static_cast<std::uint64_t>(clock.now().time_since_epoch().count());
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<std::uint8_t>(millis >> (40 - 8 * i));
  bytes[6] = static_cast<std::uint8_t>(0x70 | (bytes[6] & 0x0f));  // version 7
  bytes[8] = static_cast<std::uint8_t>(0x80 | (bytes[8] & 0x3f));  // RFC 9562 variant
  const std::string hex = hex_encode(bytes);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

}  // namespace core
