#include "core/rate_limiter.h"

#include <sodium.h>

#include "storage/rate_limits.h"

namespace core {

RateLimiter::RateLimiter(const Clock& clock, int limit, std::chrono::milliseconds window)
    : clock_(clock), limit_(limit), window_(window) {
  static_assert(sizeof(hash_key_) == crypto_shorthash_KEYBYTES);
  crypto_shorthash_keygen(hash_key_.data());
}

std::uint64_t RateLimiter::hash(std::string_view key) const {
  std::uint64_t out = 0;
  crypto_shorthash(reinterpret_cast<unsigned char*>(&out), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   hash_key_.data());
  return out;
}

void RateLimiter::expire(Events& events, TimePoint now) {
  while (events.first < events.times.size() && events.times[events.first] <= now - window_) ++events.first;
  if (events.first == events.times.size()) {
    events.times.clear();
    events.first = 0;
  } else if (events.first >= 32 && events.first * 2 >= events.times.size()) {
    events.times.erase(events.times.begin(), events.times.begin() + static_cast<std::ptrdiff_t>(events.first));
    events.first = 0;
  }
}

void RateLimiter::forget_expired(TimePoint now) {
  while (!arrivals_.empty() && arrivals_.front().first <= now - window_) {
    const auto found = events_.find(arrivals_.front().second);
    if (found != events_.end()) {
      expire(found->second, now);
      if (found->second.live() == 0) events_.erase(found);
    }
    arrivals_.pop_front();
  }
}

std::optional<std::chrono::seconds> RateLimiter::acquire(std::string_view key) {
  const TimePoint now = clock_.now();
  const std::uint64_t id = hash(key);
  std::lock_guard lock(mutex_);
  forget_expired(now);
  Events& events = events_[id];
  expire(events, now);
  if (static_cast<long long>(events.live()) < limit_) {
    events.times.push_back(now);
    arrivals_.emplace_back(now, id);
    return std::nullopt;
  }
  const auto wait = events.times[events.first] + window_ - now;
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(wait);
  return std::max(seconds, std::chrono::seconds(1));
}

void RateLimiter::release(std::string_view key) {
  const std::uint64_t id = hash(key);
  std::lock_guard lock(mutex_);
  const auto found = events_.find(id);
  if (found != events_.end() && found->second.live() > 0) found->second.times.pop_back();
}

std::unique_ptr<RateLimit> make_rate_limit(storage::Store& store, const Clock& clock, std::string name, int limit,
                                           std::chrono::milliseconds window, const std::array<unsigned char, 32>& hash_key) {
  if (store.engine() == storage::Engine::kSqlite) return std::make_unique<RateLimiter>(clock, limit, window);
  return std::make_unique<SharedRateLimiter>(store, clock, std::move(name), limit, window, hash_key);
}

SharedRateLimiter::SharedRateLimiter(storage::Store& store, const Clock& clock, std::string name, int limit,
                                     std::chrono::milliseconds window, const std::array<unsigned char, 32>& hash_key)
    : store_(store), clock_(clock), name_(std::move(name)), limit_(limit), window_(window), hash_key_(hash_key) {}

std::string SharedRateLimiter::hash(std::string_view key) const {
  std::string out(16, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(key.data()), key.size(), hash_key_.data(), hash_key_.size());
  return out;
}

std::optional<std::chrono::seconds> SharedRateLimiter::acquire(std::string_view key) {
  const TimePoint now = clock_.now();
  const std::string hashed = hash(key);
  const auto oldest = store_.write([&](storage::Connection& c) {
    return storage::rate_limits::acquire(c, name_, hashed, format_timestamp(now), format_timestamp(now - window_),
                                         limit_);
  });
  if (!oldest) return std::nullopt;
  const auto frees = parse_timestamp(*oldest).value_or(now) + window_;
  return std::max(std::chrono::ceil<std::chrono::seconds>(frees - now), std::chrono::seconds(1));
}

void SharedRateLimiter::release(std::string_view key) {
  const std::string hashed = hash(key);
  store_.write([&](storage::Connection& c) { storage::rate_limits::release(c, name_, hashed); });
}

std::size_t RateLimiter::tracked_keys() {
  std::lock_guard lock(mutex_);
  forget_expired(clock_.now());
  return events_.size();
}

}  // namespace core
