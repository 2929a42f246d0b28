#include "core/auth_cache.h"

#include <doctest/doctest.h>

#include <string>

using namespace std::chrono_literals;

namespace {
const core::TimePoint t0{std::chrono::milliseconds(1'783'088'530'000)};
}  // namespace

TEST_CASE("auth cache: an entry lives for the ttl of the injected clock, and not before it was loaded") {
  core::AuthCache<std::string> cache(1s, 16);
  cache.put("k", "app-1", t0, cache.generation());
  CHECK(cache.get("k", t0) == "app-1");
  CHECK(cache.get("k", t0 + 999ms) == "app-1");
  CHECK_FALSE(cache.get("k", t0 + 1s).has_value());
  CHECK_FALSE(cache.get("k", t0 - 1ms).has_value());  // a clock set back does not extend an entry
  CHECK_FALSE(cache.get("other", t0).has_value());
}

TEST_CASE("auth cache: invalidate drops every entry, and a load that overlapped it is not kept") {
  core::AuthCache<std::string> cache(1h, 16);
  cache.put("k", "before", t0, cache.generation());
  const auto load_started = cache.generation();
  cache.invalidate();  // a rotation commits while the load is reading the old row
  CHECK_FALSE(cache.get("k", t0).has_value());
  cache.put("k", "stale", t0, load_started);
  CHECK_FALSE(cache.get("k", t0).has_value());
  cache.put("k", "fresh", t0, cache.generation());
  CHECK(cache.get("k", t0) == "fresh");
}

TEST_CASE("auth cache: the size is bounded") {
  core::AuthCache<int> cache(1h, 3);
  for (int i = 0; i < 10; ++i) cache.put("k" + std::to_string(i), i, t0, cache.generation());
  int present = 0;
  for (int i = 0; i < 10; ++i) present += cache.get("k" + std::to_string(i), t0).has_value() ? 1 : 0;
  CHECK(present <= 3);
  CHECK(cache.get("k9", t0) == 9);
}
