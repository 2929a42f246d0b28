#include "core/plans.h"

namespace core {

namespace {

// A limit: a count, or -1 for "unlimited"; false when malformed.
bool parse_limit(const std::string& text, int& limit) {
  if (text == "unlimited") {
    limit = -1;
    return true;
  }
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) return false;
  limit = std::stoi(text);
  return true;
}

std::optional<int> as_optional(int limit) { return limit < 0 ? std::nullopt : std::optional<int>(limit); }

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

}  // namespace

Result<PlanCatalog> PlanCatalog::create(const std::vector<std::string>& definitions, const std::string& default_plan) {
  PlanCatalog catalog;
  catalog.plans_["free"] = Plan{"free", 10, 5};
  catalog.plans_["unlimited"] = Plan{"unlimited", std::nullopt, std::nullopt};
  for (const auto& definition : definitions) {
    const auto first = definition.find(':');
    const auto second = first == std::string::npos ? first : definition.find(':', first + 1);
    if (second == std::string::npos) {
      return Error::invalid_argument("plan '" + definition + "' is not name:projects:applications");
    }
    const std::string name = definition.substr(0, first);
    int projects = 0, applications = 0;
    if (!valid_name(name) || !parse_limit(definition.substr(first + 1, second - first - 1), projects) ||
        !parse_limit(definition.substr(second + 1), applications)) {
      return Error::invalid_argument("plan '" + definition +
                                     "' is not name:projects:applications (limits: a number or 'unlimited')");
    }
    catalog.plans_[name] = Plan{name, as_optional(projects), as_optional(applications)};
  }
  if (!catalog.find(default_plan)) return Error::invalid_argument("default plan '" + default_plan + "' is not defined");
  catalog.default_plan_ = default_plan;
  return catalog;
}

const Plan* PlanCatalog::find(const std::string& name) const {
  const auto it = plans_.find(name);
  return it == plans_.end() ? nullptr : &it->second;
}

}  // namespace core
