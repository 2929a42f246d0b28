#include "core/health.h"

namespace core {

HealthReport HealthService::check() const {
  HealthReport report{storage_readable_(), format_timestamp(clock_.now()), version_, {}};
  if (!report.operational) {
    report.failing.push_back({"store", "read_failed", "the database cannot be read", Impact::kDegraded, report.time,
                              report.time, 1});
  }
  if (monitor_ != nullptr) {
    for (auto& failure : monitor_->failing()) {
      if (failure.impact == Impact::kDegraded) report.operational = false;
      report.failing.push_back(std::move(failure));
    }
  }
  return report;
}

}  // namespace core
