#include "core/ids.h"

#include <doctest/doctest.h>

#include <regex>

TEST_CASE("ids are UUIDv7 strings that sort by creation time") {
  core::ManualClock clock(core::TimePoint(std::chrono::milliseconds(1'780'000'000'000)));
  core::SodiumRandom random;
  const std::regex uuid7("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::string previous;
  for (int i = 0; i < 50; ++i) {
    const std::string id = core::new_id(clock, random);
    CHECK(std::regex_match(id, uuid7));
    if (!previous.empty()) CHECK(previous < id);
    previous = id;
    clock.advance(std::chrono::milliseconds(1));
  }
}

TEST_CASE("ids made within one millisecond still increase") {
  core::ManualClock clock(core::TimePoint(std::chrono::milliseconds(1'790'000'000'000)));
  core::SeededRandom random(3);
  std::string previous = core::new_id(clock, random);
  for (int i = 0; i < 10000; ++i) {  // more than the 4096 a millisecond's counter holds
    const std::string id = core::new_id(clock, random);
    REQUIRE(previous < id);
    previous = id;
  }
}
