// The sliding-window rate limits of a PostgreSQL database, counted by every node together:
// one row per accepted event inside a window (rate_limit_events). Timestamps are the callers'
// ISO text. Stateless; each function runs in the caller's write transaction.
#pragma once

#include <optional>
#include <string>

#include "storage/sql.h"

namespace storage::rate_limits {

// Runs in a write transaction of its own (it turns off that transaction's flush wait).
// Under a lock on (limiter, key): forgets the events at or before `window_start`, and records
// one at `now` if fewer than `limit` remain; then returns nullopt. Otherwise records nothing
// and returns the oldest remaining event's time (the window frees up `window` after it).
std::optional<std::string> acquire(Connection& c, const std::string& limiter, const std::string& key,
                                   const std::string& now, const std::string& window_start, int limit);
// Takes back the latest event of (limiter, key).
void release(Connection& c, const std::string& limiter, const std::string& key);
// Forgets every event at or before `before` (keys nobody used since); returns rows removed.
// With SQLite (limits in memory, no table) it does nothing.
int purge(Connection& c, const std::string& before, int batch);

}  // namespace storage::rate_limits
