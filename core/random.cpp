#include "core/random.h"

#include <sodium.h>

#include <cstring>

namespace core {

void SodiumRandom::fill(std::span<std::uint8_t> out) { randombytes_buf(out.data(), out.size()); }

std::uint32_t SodiumRandom::uniform(std::uint32_t upper) { return randombytes_uniform(upper); }

SeededRandom::SeededRandom(std::uint64_t seed) { std::memcpy(seed_.data(), &seed, sizeof seed); }

void SeededRandom::fill(std::span<std::uint8_t> out) {
  // Each call draws from a fresh stream: the seed's tail carries a call counter.
  std::array<std::uint8_t, 32> stream_seed = seed_;
  ++counter_;
  std::memcpy(stream_seed.data() + 16, &counter_, sizeof counter_);
  randombytes_buf_deterministic(out.data(), out.size(), stream_seed.data());
}

std::uint32_t SeededRandom::uniform(std::uint32_t upper) {
  // Rejection sampling: discard draws from the incomplete top range.
  const std::uint32_t limit = static_cast<std::uint32_t>(-upper) % upper;
  std::uint32_t value = 0;
  do {
    fill(std::span(reinterpret_cast<std::uint8_t*>(&value), sizeof value));
  } while (value < limit);
  return value % upper;
}

}  // namespace core
