// Plans and their limits. Operators define them as "name:projects:applications" (a number or
// "unlimited"); `free` (10, 5) and `unlimited` exist unless redefined. Immutable; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace core {

struct Plan {
  std::string name;
  std::optional<int> max_projects;      // nullopt = no limit
  std::optional<int> max_applications;  // nullopt = no limit
};

class PlanCatalog {
 public:
  // 400-style error (as an Error) for a malformed definition or an unknown default plan.
  static Result<PlanCatalog> create(const std::vector<std::string>& definitions, const std::string& default_plan);

  const Plan* find(const std::string& name) const;
  const std::string& default_plan() const { return default_plan_; }

 private:
  std::map<std::string, Plan> plans_;
  std::string default_plan_;
};

}  // namespace core
