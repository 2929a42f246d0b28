// Sliding-window rate limits. RateLimit is what the services use; make_rate_limit picks the
// one for the store: RateLimiter in memory for SQLite (one process owns the file), or
// SharedRateLimiter counted in the PostgreSQL database, so the limits hold across nodes.
//
// RateLimiter, kept in memory: at most `limit` events per key per `window`.
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

#include <memory>
#include <string>

#include "core/clock.h"
#include "storage/store.h"

namespace core {

class RateLimit {
 public:
  virtual ~RateLimit() = default;
  // Records one event for `key` and returns nullopt if within the limit; otherwise records
  // nothing and returns how long to wait (whole seconds, at least 1).
  virtual std::optional<std::chrono::seconds> acquire(std::string_view key) = 0;
  // Takes back the latest event of `key` (when a later check refused the request after all).
  virtual void release(std::string_view key) = 0;
};

// `name` tells one limit's events from another's in the database; `hash_key` (32 bytes)
// keys the hash that stands for each key there (keys hold phone numbers and addresses).
std::unique_ptr<RateLimit> make_rate_limit(storage::Store& store, const Clock& clock, std::string name, int limit,
                                           std::chrono::milliseconds window, const std::array<unsigned char, 32>& hash_key);

class RateLimiter : public RateLimit {
 public:
  RateLimiter(const Clock& clock, int limit, std::chrono::milliseconds window);

  std::optional<std::chrono::seconds> acquire(std::string_view key) override;
  void release(std::string_view key) override;

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

// Counted in the database (storage::rate_limits): exact across every node of it, at the cost
// of one small write transaction per acquire.
class SharedRateLimiter : public RateLimit {
 public:
  SharedRateLimiter(storage::Store& store, const Clock& clock, std::string name, int limit,
                    std::chrono::milliseconds window, const std::array<unsigned char, 32>& hash_key);

  std::optional<std::chrono::seconds> acquire(std::string_view key) override;
  void release(std::string_view key) override;

 private:
  std::string hash(std::string_view key) const;

  storage::Store& store_;
  const Clock& clock_;
  const std::string name_;
  const int limit_;
  const std::chrono::milliseconds window_;
  std::array<unsigned char, 32> hash_key_;
};

}  // namespace core
