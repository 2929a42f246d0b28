#include "core/ids.h"

#include <array>
#include <cstdint>
#include <mutex>

#include "core/crypto.h"

namespace core {

namespace {

// RFC 9562 §6.2 method 1: within one millisecond the 12-bit rand_a field is a counter, so ids
// made by this process are strictly increasing even when the clock stands still (a manual
// clock in tests, or many ids per ms).
struct Sequence {
  std::mutex mutex;
  std::uint64_t last_millis = 0;
  std::uint32_t counter = 0;
};
Sequence sequence;

}  // namespace

std::string new_id(const Clock& clock, Random& random) {
  std::array<std::uint8_t, 16> bytes{};
  random.fill(bytes);
  auto millis = static_cast<std::uint64_t>(clock.now().time_since_epoch().count());
  std::uint32_t counter = 0;
  {
    std::lock_guard lock(sequence.mutex);
    if (millis <= sequence.last_millis) {
      millis = sequence.last_millis;
      if (++sequence.counter > 0xfff) {  // counter exhausted: borrow the next millisecond
        ++millis;
        sequence.counter = 0;
      }
    } else {
      sequence.counter = 0;
    }
    sequence.last_millis = millis;
    counter = sequence.counter;
  }
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<std::uint8_t>(millis >> (40 - 8 * i));
  bytes[6] = static_cast<std::uint8_t>(0x70 | (counter >> 8));  // version 7, counter high bits
  bytes[7] = static_cast<std::uint8_t>(counter & 0xff);
  bytes[8] = static_cast<std::uint8_t>(0x80 | (bytes[8] & 0x3f));  // RFC 9562 variant
  const std::string hex = hex_encode(bytes);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

}  // namespace core
