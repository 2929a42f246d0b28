// Logs and analytics of a developer's OTP traffic (SPEC §10). Summaries and time series read
// the per-day counters, never the events. Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/accounts.h"
#include "core/pagination.h"
#include "storage/store.h"

namespace core {

struct LogEntry {
  long long seq = 0;
  std::string id;
  std::string event;
  std::string app_id;
  std::optional<std::string> request_id;
  std::optional<std::string> phone;  // E.164
  std::optional<std::string> status;
  std::string created_at;
  nlohmann::json detail;  // the event's own fields (reason, attemptsRemaining, verifiedAt, ...)
};

struct Summary {
  long long applications = 0;
  long long otp_requests = 0;
  long long otp_verified = 0;
  long long success_rate = 0;  // round(100 × verified / requests), 0 when none
  long long active_users = 0;  // identities verified in the last 30 days
};

struct DayBucket {
  std::string date;  // YYYY-MM-DD
  long long sent = 0;
  long long verified = 0;
  long long failed = 0;
};

struct Timeseries {
  std::string range;
  std::vector<DayBucket> buckets;  // oldest first, one per UTC day, today included
};

class AnalyticsService {
 public:
  AnalyticsService(storage::Store& db, const Clock& clock) : db_(db), clock_(clock) {}

  Result<Page<LogEntry>> logs(const Developer& owner, const std::optional<std::string>& app_id, const PageRequest& page);
  Result<Summary> summary(const Developer& owner, const std::optional<std::string>& app_id);
  Result<Timeseries> timeseries(const Developer& owner, const std::optional<std::string>& range,
                                const std::optional<std::string>& app_id);

 private:
  Status check_app(const Developer& owner, const std::optional<std::string>& app_id);

  storage::Store& db_;
  const Clock& clock_;
};

}  // namespace core
