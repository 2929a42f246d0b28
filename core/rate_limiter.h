// A sliding-window rate limiter kept in memory: at most `limit` events per key per `window`.
// Thread-safe.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace core {

class RateLimiter {
 public:
  RateLimiter(const Clock& clock, int limit, std::chrono::milliseconds window)
      : clock_(clock), limit_(limit), window_(window) {}

  // Records one event for `key` and returns nullopt if within the limit; otherwise records
  // nothing and returns how long to wait (whole seconds, at least 1).
  std::optional<std::chrono::seconds> acquire(const std::string& key);
  // Takes back the latest event of `key` (when a later check refused the request after all).
  void release(const std::string& key);

 private:
  void sweep(TimePoint now);

  const Clock& clock_;
  const int limit_;
  const std::chrono::milliseconds window_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<TimePoint>> events_;
  std::size_t calls_since_sweep_ = 0;
};

}  // namespace core
