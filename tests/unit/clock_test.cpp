#include "core/clock.h"

#include <doctest/doctest.h>

using namespace std::chrono;
using core::TimePoint;

TEST_CASE("timestamps are ISO 8601 UTC with milliseconds") {
  const TimePoint t(sys_days(year(2026) / 7 / 3).time_since_epoch() + 14h + 22min + 10s + 7ms);
  CHECK(core::format_timestamp(t) == "2026-07-03T14:22:10.007Z");
  CHECK(core::format_timestamp(TimePoint(milliseconds(0))) == "1970-01-01T00:00:00.000Z");
  CHECK(core::format_timestamp(TimePoint(sys_days(year(2028) / 2 / 29).time_since_epoch() + 23h + 59min + 59s +
                                         999ms)) == "2028-02-29T23:59:59.999Z");
}

TEST_CASE("timestamps parse back exactly and reject near misses") {
  const TimePoint t(sys_days(year(2026) / 12 / 31).time_since_epoch() + 23h + 59min + 59s + 123ms);
  CHECK(core::parse_timestamp(core::format_timestamp(t)) == t);
  for (const char* bad : {"", "2026-07-03T14:22:10Z", "2026-07-03 14:22:10.000Z", "2026-02-30T00:00:00.000Z",
                          "2026-07-03T24:00:00.000Z", "2026-07-03T14:22:10.000+00:00", "2026-07-03T14:2a:10.000Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(core::parse_timestamp(bad).has_value());
  }
}

TEST_CASE("the manual clock moves only when told") {
  core::ManualClock clock(TimePoint(milliseconds(1000)));
  CHECK(clock.now() == TimePoint(milliseconds(1000)));
  clock.advance(milliseconds(500));
  CHECK(clock.now() == TimePoint(milliseconds(1500)));
  clock.set(TimePoint(milliseconds(7)));
  CHECK(clock.now() == TimePoint(milliseconds(7)));
}
