// A sliding-window rate limiter kept in memory: at most `limit` events per key per `window`.
// Exact, with memory proportional to the events inside the window: keys are stored as a keyed
// 64-bit hash (SipHash with a per-limiter random key, so nobody can aim collisions), the
// timestamps of a key in a flat vector, and expired keys are dropped in arrival order as time
// passes (no periodic sweep that holds the lock over every key). Thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace core {

class RateLimiter {
 public:
  RateLimiter(const Clock& clock, int limit, std::chrono::milliseconds window);

  // Records one event for `key` and returns nullopt if within the limit; otherwise records
  // nothing and returns how long to wait (whole seconds, at least 1).
  std::optional<std::chrono::seconds> acquire(std::string_view key);
  // Takes back the latest event of `key` (when a later check refused the request after all).
  void release(std::string_view key);

  // Keys that currently hold events (for tests and measurements).
  std::size_t tracked_keys();

 private:
  // The events of one key inside the window: times[first..] (older ones already expired).
  struct Events {
    std::vector<TimePoint> times;
    std::size_t first = 0;
    std::size_t live() const { return times.size() - first; }
  };
  std::uint64_t hash(std::string_view key) const;
  void expire(Events& events, TimePoint now);
  void forget_expired(TimePoint now);

  const Clock& clock_;
  const int limit_;
  const std::chrono::milliseconds window_;
  std::array<unsigned char, 16> hash_key_{};
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, Events> events_;
  // Every recorded event in time order, so keys whose last event left the window are found
  // without scanning the map.
  std::deque<std::pair<TimePoint, std::uint64_t>> arrivals_;
};

}  // namespace core
