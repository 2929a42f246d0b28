// Analytics counters, active-user lookups and the log feed: SQL only. Functions run on the
// caller's connection; not thread-safe by themselves.
#pragma once

#include <SQLiteCpp/Database.h>

#include <optional>
#include <string>
#include <vector>

#include "storage/otp.h"

namespace storage {

struct DayCounts {
  std::string day;
  long long sent = 0;
  long long verified = 0;
  long long failed = 0;
};

namespace analytics {

// Adds to one counter ("sent", "verified" or "failed") of an application's day.
void count(SQLite::Database& db, const std::string& app_id, const std::string& developer_id, const std::string& day,
           const char* counter);
void touch_phone(SQLite::Database& db, const std::string& app_id, const std::string& phone, const std::string& at);
// Totals over all days (app_id nullopt = every app of the developer).
DayCounts totals(SQLite::Database& db, const std::string& developer_id, const std::optional<std::string>& app_id);
// Per day from `first_day` on, only days with counts, oldest first.
std::vector<DayCounts> days(SQLite::Database& db, const std::string& developer_id,
                            const std::optional<std::string>& app_id, const std::string& first_day);
long long active_identities(SQLite::Database& db, const std::string& developer_id, const std::string& since);
long long active_app_phones(SQLite::Database& db, const std::string& app_id, const std::string& since);
long long application_count(SQLite::Database& db, const std::string& developer_id);

}  // namespace analytics

namespace logs {

// The developer's events with seq below `before_seq` (all when nullopt), newest first.
std::vector<EventRow> list(SQLite::Database& db, const std::string& developer_id,
                           const std::optional<std::string>& app_id, const std::optional<long long>& before_seq,
                           int limit);

}  // namespace logs

}  // namespace storage
