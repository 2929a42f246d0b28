// The health report of SPEC §3. Thread-safe if the probe is.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/monitor.h"

namespace core {

struct HealthReport {
  // False when the database cannot be read, or a component reports a failure of
  // Impact::kDegraded (the store cannot write, a worker died).
  bool operational = false;
  std::string time;
  std::string version;
  std::vector<ComponentFailure> failing;  // everything failing now, degrading or not
};

class HealthService {
 public:
  // `storage_readable` answers whether the database can be read right now; `monitor` (optional)
  // holds what the background components report.
  HealthService(const Clock& clock, std::function<bool()> storage_readable, std::string version,
                const ComponentMonitor* monitor = nullptr)
      : clock_(clock), storage_readable_(std::move(storage_readable)), version_(std::move(version)), monitor_(monitor) {}

  HealthReport check() const;

 private:
  const Clock& clock_;
  std::function<bool()> storage_readable_;
  std::string version_;
  const ComponentMonitor* monitor_;
};

}  // namespace core
