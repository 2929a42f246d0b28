#include "app/http/guard.h"
#include "app/http/handlers.h"
#include "app/http/json_body.h"
#include "app/http/render.h"

namespace app::http {

Handler logs_list(core::AccountService& accounts, core::AnalyticsService& analytics) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto page = core::parse_page(query_param(request, "limit"), query_param(request, "cursor"));
    if (!page.ok()) return page.error();
    auto result = analytics.logs(owner.value(), query_param(request, "appId"), page.value());
    if (!result.ok()) return result.error();
    return Reply::list(page_items(result.value(), log_json), result.value().next_cursor);
  };
}

Handler analytics_summary(core::AccountService& accounts, core::AnalyticsService& analytics) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto summary = analytics.summary(owner.value(), query_param(request, "appId"));
    if (!summary.ok()) return summary.error();
    const auto& s = summary.value();
    return Reply::data({{"applications", s.applications},
                        {"otpRequests", s.otp_requests},
                        {"otpVerified", s.otp_verified},
                        {"successRate", s.success_rate},
                        {"activeUsers", s.active_users}});
  };
}

Handler analytics_timeseries(core::AccountService& accounts, core::AnalyticsService& analytics) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto series = analytics.timeseries(owner.value(), query_param(request, "range"), query_param(request, "appId"));
    if (!series.ok()) return series.error();
    nlohmann::json buckets = nlohmann::json::array();
    for (const auto& b : series.value().buckets) {
      buckets.push_back({{"date", b.date}, {"sent", b.sent}, {"verified", b.verified}, {"failed", b.failed}});
    }
    return Reply::data({{"range", series.value().range}, {"buckets", buckets}});
  };
}

}  // namespace app::http
