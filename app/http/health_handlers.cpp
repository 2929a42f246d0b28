#include "app/http/handlers.h"

namespace app::http {

Handler health_get(const core::HealthService& health) {
  return [&health](const HttpRequest&) -> core::Result<Reply> {
    const core::HealthReport report = health.check();
    nlohmann::json data = {{"status", report.operational ? "operational" : "degraded"},
                           {"service", "cobinar-phone-api"},
                           {"time", report.time},
                           {"version", report.version}};
    // Only when something fails, so a healthy answer is exactly SPEC §3's.
    if (!report.failing.empty()) {
      nlohmann::json failing = nlohmann::json::array();
      for (const auto& failure : report.failing) {
        failing.push_back({{"component", failure.component},
                           {"kind", failure.kind},
                           {"reason", failure.reason},
                           {"impact", failure.impact == core::Impact::kDegraded ? "degraded" : "dependency"},
                           {"since", failure.since},
                           {"last", failure.last},
                           {"count", failure.count}});
      }
      data["failing"] = std::move(failing);
    }
    if (!report.operational) {
      // The first component that makes it degraded, for checks that read one field.
      for (const auto& failure : report.failing) {
        if (failure.impact == core::Impact::kDegraded) {
          data["component"] = failure.component;
          break;
        }
      }
    }
    return Reply::data(std::move(data), report.operational ? 200 : 503);
  };
}

}  // namespace app::http
