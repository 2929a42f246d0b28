#include "core/health.h"

namespace core {

HealthReport HealthService::check() const {
  return HealthReport{storage_readable_(), format_timestamp(clock_.now()), version_};
}

}  // namespace core
