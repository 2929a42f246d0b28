#include "core/crypto.h"

#include <doctest/doctest.h>

#include <set>

#include "core/random.h"

TEST_CASE("hex round-trips and rejects malformed input") {
  const std::array<std::uint8_t, 4> bytes{0x00, 0x7f, 0xab, 0xff};
  CHECK(core::hex_encode(bytes) == "007fabff");
  CHECK(core::hex_decode("007fabff") == std::string("\x00\x7f\xab\xff", 4));
  CHECK_FALSE(core::hex_decode("abc").has_value());
  CHECK_FALSE(core::hex_decode("zz").has_value());
}

TEST_CASE("constant-time equality compares content and length") {
  CHECK(core::constant_time_equal("secret", "secret"));
  CHECK_FALSE(core::constant_time_equal("secret", "secreT"));
  CHECK_FALSE(core::constant_time_equal("secret", "secret2"));
  CHECK(core::constant_time_equal("", ""));
}

TEST_CASE("server key subkeys differ per purpose and index and are stable") {
  core::ServerKey::Bytes master{};
  master.fill(7);
  const core::ServerKey key(master);
  CHECK(key.derive("otp-hmac") == key.derive("otp-hmac"));
  CHECK(key.derive("otp-hmac") != key.derive("tokens"));
  CHECK(key.derive("otp-hmac", 1) != key.derive("otp-hmac", 2));
  core::ServerKey::Bytes other{};
  other.fill(8);
  CHECK(core::ServerKey(other).derive("otp-hmac") != key.derive("otp-hmac"));
}

TEST_CASE("uniform draws stay in range and cover it") {
  core::SodiumRandom sodium;
  core::SeededRandom seeded(1);
  for (core::Random* random : {static_cast<core::Random*>(&sodium), static_cast<core::Random*>(&seeded)}) {
    std::set<std::uint32_t> seen;
    for (int i = 0; i < 2000; ++i) {
      const auto value = random->uniform(10);
      REQUIRE(value < 10);
      seen.insert(value);
    }
    CHECK(seen.size() == 10);
  }
}

TEST_CASE("seeded randomness is reproducible and each draw differs") {
  core::SeededRandom a(99), b(99);
  std::array<std::uint8_t, 16> x{}, y{}, z{};
  a.fill(x);
  b.fill(y);
  a.fill(z);
  CHECK(x == y);
  CHECK(x != z);
}
