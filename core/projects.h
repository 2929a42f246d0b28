// Projects of a developer: create, read, list, update, delete, within the plan's limit.
// Thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "core/accounts.h"
#include "core/pagination.h"
#include "storage/store.h"

namespace core {

struct Project {
  std::string id;
  std::string name;
  std::string description;
  int application_count = 0;
  std::string created_at;
  std::string updated_at;
};

class ProjectService {
 public:
  ProjectService(storage::Store& db, const Clock& clock, Random& random, const PlanCatalog& plans)
      : db_(db), clock_(clock), random_(random), plans_(plans) {}

  Result<Page<Project>> list(const Developer& owner, const PageRequest& page);
  Result<Project> create(const Developer& owner, const nlohmann::json& body);
  Result<Project> get(const Developer& owner, const std::string& id);
  Result<Project> update(const Developer& owner, const std::string& id, const nlohmann::json& body);
  Status remove(const Developer& owner, const std::string& id);

 private:
  storage::Store& db_;
  const Clock& clock_;
  Random& random_;
  const PlanCatalog& plans_;
};

// 403 PLAN_LIMIT_EXCEEDED with details.limit.
Error plan_limit_exceeded(const std::string& what, int limit);

}  // namespace core
