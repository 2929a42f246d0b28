#include "app/http/handlers.h"

namespace app::http {

Handler health_get(const core::HealthService& health) {
  return [&health](const HttpRequest&) -> core::Result<Reply> {
    const core::HealthReport report = health.check();
    return Reply::data({{"status", report.operational ? "operational" : "degraded"},
                        {"service", "cobinar-phone-api"},
                        {"time", report.time},
                        {"version", report.version}},
                       report.operational ? 200 : 503);
  };
}

}  // namespace app::http
