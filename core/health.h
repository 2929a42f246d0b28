// The health report of SPEC §3. Thread-safe if the probe is.
#pragma once

#include <functional>
#include <string>

#include "core/clock.h"

namespace core {

struct HealthReport {
  bool operational = false;
  std::string time;
  std::string version;
};

class HealthService {
 public:
  // `storage_readable` answers whether the database can be read right now.
  HealthService(const Clock& clock, std::function<bool()> storage_readable, std::string version)
      : clock_(clock), storage_readable_(std::move(storage_readable)), version_(std::move(version)) {}

  HealthReport check() const;

 private:
  const Clock& clock_;
  std::function<bool()> storage_readable_;
  std::string version_;
};

}  // namespace core
