// Time as an injected dependency, and the wire's timestamp format (SPEC §1). SystemClock and
// ManualClock are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace core {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override;
};

// A clock that only moves when told to; for exact tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : millis_(start.time_since_epoch().count()) {}
  TimePoint now() const override;
  void set(TimePoint t) { millis_ = t.time_since_epoch().count(); }
  void advance(std::chrono::milliseconds d) { millis_ += d.count(); }

 private:
  std::atomic<long long> millis_;
};

// "2026-07-03T14:22:10.000Z"
std::string format_timestamp(TimePoint t);
// Parses exactly the format above; nullopt for anything else.
std::optional<TimePoint> parse_timestamp(std::string_view text);

}  // namespace core
