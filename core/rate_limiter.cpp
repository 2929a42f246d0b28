#include "core/rate_limiter.h"

namespace core {

std::optional<std::chrono::seconds> RateLimiter::acquire(const std::string& key) {
  const TimePoint now = clock_.now();
  std::lock_guard lock(mutex_);
  if (++calls_since_sweep_ >= 4096) sweep(now);
  auto& times = events_[key];
  while (!times.empty() && times.front() <= now - window_) times.pop_front();
  if (static_cast<int>(times.size()) < limit_) {
    times.push_back(now);
    return std::nullopt;
  }
  const auto wait = times.front() + window_ - now;
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(wait);
  return std::max(seconds, std::chrono::seconds(1));
}

void RateLimiter::release(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto it = events_.find(key);
  if (it != events_.end() && !it->second.empty()) it->second.pop_back();
}

void RateLimiter::sweep(TimePoint now) {
  calls_since_sweep_ = 0;
  for (auto it = events_.begin(); it != events_.end();) {
    if (it->second.empty() || it->second.back() <= now - window_) {
      it = events_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace core
