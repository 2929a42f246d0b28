// What app authentication needs from the store, kept in memory per API key: every OTP call
// authenticates, and three lookups per request were ~14 % of the server's CPU in the flow
// benchmark. Holds only what the database holds (key hashes, salted secret verifiers), never
// a plaintext credential.
//
// Freshness: the ApplicationService clears the cache after every change it commits (update,
// delete, rotation), and a load that raced with such a change is not kept (generations).
// Changes made by another process on the same file are seen after at most `ttl`. Grace
// periods end on time: every entry carries the expiry of its key and of each secret.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"

namespace core {

template <typename Value>
class AuthCache {
 public:
  AuthCache(std::chrono::milliseconds ttl, std::size_t max_entries) : ttl_(ttl), max_entries_(max_entries) {}

  // Where a load starts: pass the result to put(), so a load that overlapped a change is dropped.
  std::uint64_t generation() const {
    std::shared_lock lock(mutex_);
    return generation_;
  }

  std::optional<Value> get(const std::string& key, TimePoint now) const {
    std::shared_lock lock(mutex_);
    const auto found = entries_.find(key);
    if (found == entries_.end() || now - found->second.loaded_at >= ttl_ || now < found->second.loaded_at) {
      return std::nullopt;
    }
    return found->second.value;
  }

  void put(const std::string& key, Value value, TimePoint now, std::uint64_t loaded_at_generation) {
    std::unique_lock lock(mutex_);
    if (loaded_at_generation != generation_) return;
    // Bounded: unknown keys are never cached, and a full cache starts over.
    if (entries_.size() >= max_entries_) entries_.clear();
    entries_.insert_or_assign(key, Entry{std::move(value), now});
  }

  // After a committed change to what the entries describe.
  void invalidate() {
    std::unique_lock lock(mutex_);
    ++generation_;
    entries_.clear();
  }

 private:
  struct Entry {
    Value value;
    TimePoint loaded_at;
  };
  const std::chrono::milliseconds ttl_;
  const std::size_t max_entries_;
  mutable std::shared_mutex mutex_;
  std::uint64_t generation_ = 0;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace core
