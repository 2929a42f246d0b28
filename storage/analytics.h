// Analytics counters, active-user lookups and the log feed: SQL only. Functions run on the
// caller's connection; not thread-safe by themselves.
#pragma once

#include "storage/sql.h"


#include <optional>
#include <string>
#include <vector>

#include "storage/batch_writes.h"
#include "storage/otp.h"

namespace storage {

struct DayCounts {
  std::string day;
  long long sent = 0;
  long long verified = 0;
  long long failed = 0;
};

namespace analytics {

// Adds one to a counter of an application's day (inside a write job: once per group commit,
// see batch_writes.h).
void count(Connection& db, const std::string& app_id, const std::string& developer_id, const std::string& day,
           StatColumn column);
// Records that `phone` verified through `app_id` at `at`; returns its previous verification
// through that application, if any.
std::optional<std::string> touch_phone(Connection& db, const std::string& app_id, const std::string& phone,
                                       const std::string& at);
// Moves one phone of the scope from the day of its previous verification (none: a phone new
// to the scope) to the day of `at`, in active_phone_days.
void move_active_phone(Connection& db, ActiveScope scope, const std::string& scope_id,
                       const std::optional<std::string>& previous, const std::string& at);
// Totals over all days (app_id nullopt = every app of the developer).
DayCounts totals(Connection& db, const std::string& developer_id, const std::optional<std::string>& app_id);
// Per day from `first_day` on, only days with counts, oldest first.
std::vector<DayCounts> days(Connection& db, const std::string& developer_id,
                            const std::optional<std::string>& app_id, const std::string& first_day);
// Phones of the scope (a developer's identities, or an application's phones) whose latest
// verification is at or after `since`: the day counts after since's day, plus an index walk
// over since's own day only.
long long active_phones(Connection& db, ActiveScope scope, const std::string& scope_id, const std::string& since);
long long application_count(Connection& db, const std::string& developer_id);

}  // namespace analytics

namespace logs {

// The developer's events with seq below `before_seq` (all when nullopt), newest first.
std::vector<EventRow> list(Connection& db, const std::string& developer_id,
                           const std::optional<std::string>& app_id, const std::optional<long long>& before_seq,
                           int limit);

}  // namespace logs

}  // namespace storage
