#include "core/analytics.h"

#include <cmath>

#include "storage/analytics.h"
#include "storage/applications.h"

namespace core {

namespace {

std::string day_of(TimePoint t) { return format_timestamp(t).substr(0, 10); }

}  // namespace

Status AnalyticsService::check_app(const Developer& owner, const std::optional<std::string>& app_id) {
  if (!app_id) return Ok{};
  const bool mine = db_.read([&](storage::Connection& c) { return storage::applications::find(c, owner.id, *app_id).has_value(); });
  if (!mine) return Error::not_found("Application not found.");
  return Ok{};
}

Result<Page<LogEntry>> AnalyticsService::logs(const Developer& owner, const std::optional<std::string>& app_id,
                                              const PageRequest& page) {
  std::optional<long long> before;
  if (page.after) {
    // Log cursors are event sequence numbers: new events only ever get larger ones, so paging
    // downwards never skips or repeats an entry while events arrive.
    if (page.after->empty() || page.after->size() > 18 || page.after->find_first_not_of("0123456789") != std::string::npos) {
      return Error::invalid_argument("cursor is not valid.", {{"fields", {{"cursor", "is not a cursor from this API"}}}});
    }
    before = std::stoll(*page.after);
  }
  if (auto mine = check_app(owner, app_id); !mine.ok()) return mine.error();
  const auto rows = db_.read([&](storage::Connection& c) {
    return storage::logs::list(c, owner.id, app_id, before, page.limit + 1);
  });
  std::vector<LogEntry> entries;
  for (const auto& row : rows) {
    nlohmann::json detail = nlohmann::json::parse(row.payload, nullptr, false);
    if (!detail.is_object()) detail = nlohmann::json::object();
    for (const char* common : {"appId", "phone", "requestId"}) detail.erase(common);
    entries.push_back({row.seq, row.id, row.type, row.app_id, row.request_id, row.phone, row.status, row.created_at, detail});
  }
  return make_page(std::move(entries), page.limit, [](const LogEntry& e) { return std::to_string(e.seq); });
}

Result<Summary> AnalyticsService::summary(const Developer& owner, const std::optional<std::string>& app_id) {
  if (auto mine = check_app(owner, app_id); !mine.ok()) return mine.error();
  const std::string since = format_timestamp(clock_.now() - std::chrono::days(30));
  return db_.read([&](storage::Connection& c) {
    const auto totals = storage::analytics::totals(c, owner.id, app_id);
    Summary summary;
    summary.applications = app_id ? 1 : storage::analytics::application_count(c, owner.id);
    summary.otp_requests = totals.sent;
    summary.otp_verified = totals.verified;
    summary.success_rate =
        totals.sent == 0 ? 0 : std::llround(100.0 * static_cast<double>(totals.verified) / static_cast<double>(totals.sent));
    summary.active_users = app_id ? storage::analytics::active_phones(c, storage::ActiveScope::kApplication, *app_id, since)
                                  : storage::analytics::active_phones(c, storage::ActiveScope::kDeveloper, owner.id, since);
    return summary;
  });
}

Result<Timeseries> AnalyticsService::timeseries(const Developer& owner, const std::optional<std::string>& range,
                                                const std::optional<std::string>& app_id) {
  const std::string name = range.value_or("30d");
  const int days = name == "7d" ? 7 : name == "30d" ? 30 : name == "90d" ? 90 : 0;
  if (days == 0) {
    return Error::invalid_argument("range must be 7d, 30d or 90d.", {{"fields", {{"range", "must be 7d, 30d or 90d"}}}});
  }
  if (auto mine = check_app(owner, app_id); !mine.ok()) return mine.error();
  const auto today = std::chrono::floor<std::chrono::days>(clock_.now());
  const auto first = today - std::chrono::days(days - 1);
  const auto counted = db_.read([&](storage::Connection& c) {
    return storage::analytics::days(c, owner.id, app_id, day_of(TimePoint(first)));
  });
  Timeseries series{name, {}};
  std::size_t next = 0;
  for (auto day = first; day <= today; day += std::chrono::days(1)) {
    DayBucket bucket{day_of(TimePoint(day)), 0, 0, 0};
    if (next < counted.size() && counted[next].day == bucket.date) {
      bucket.sent = counted[next].sent;
      bucket.verified = counted[next].verified;
      bucket.failed = counted[next].failed;
      ++next;
    }
    series.buckets.push_back(bucket);
  }
  return series;
}

}  // namespace core
