// Randomness as an injected dependency. SodiumRandom (libsodium's CSPRNG) is thread-safe;
// SeededRandom is deterministic for tests and not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace core {

class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(std::span<std::uint8_t> out) = 0;
  // Uniform in [0, upper), without modulo bias. upper must be > 0.
  virtual std::uint32_t uniform(std::uint32_t upper) = 0;
};

class SodiumRandom final : public Random {
 public:
  void fill(std::span<std::uint8_t> out) override;
  std::uint32_t uniform(std::uint32_t upper) override;
};

class SeededRandom final : public Random {
 public:
  explicit SeededRandom(std::uint64_t seed);
  void fill(std::span<std::uint8_t> out) override;
  std::uint32_t uniform(std::uint32_t upper) override;

 private:
  std::array<std::uint8_t, 32> seed_{};
  std::uint64_t counter_ = 0;
};

}  // namespace core
