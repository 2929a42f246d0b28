#include "core/projects.h"

#include "core/ids.h"
#include "core/validation.h"
#include "storage/locks.h"
#include "storage/projects.h"

namespace core {

namespace {

Project from_row(const storage::ProjectRow& row) {
  return Project{row.id, row.name, row.description, row.application_count, row.created_at, row.updated_at};
}

Error project_not_found() { return Error::not_found("Project not found."); }

}  // namespace

Error plan_limit_exceeded(const std::string& what, int limit) {
  return Error{ErrorCode::kPlanLimitExceeded,
               "Your plan allows " + std::to_string(limit) + " " + what + "; delete one or change plans.",
               nlohmann::json{{"limit", limit}}};
}

Result<Page<Project>> ProjectService::list(const Developer& owner, const PageRequest& page) {
  auto rows = db_.read([&](storage::Connection& c) {
    return storage::projects::list(c, owner.id, page.after, page.limit + 1);
  });
  std::vector<Project> projects;
  for (const auto& row : rows) projects.push_back(from_row(row));
  return make_page(std::move(projects), page.limit, [](const Project& p) { return p.id; });
}

Result<Project> ProjectService::create(const Developer& owner, const nlohmann::json& body) {
  FieldReader fields(body);
  const auto name = fields.required_string("name", 1, 100);
  const auto description = fields.optional_string("description", 0, 280);
  if (!fields.ok()) return fields.error();

  const Plan* plan = plans_.find(owner.plan);
  const std::string now = format_timestamp(clock_.now());
  storage::ProjectRow row{new_id(clock_, random_), owner.id, *name, description.value_or(""), now, now, 0};
  const bool created = db_.write([&](storage::Connection& c) {
    storage::locks::exclusive(c, storage::locks::developer(owner.id));
    // Counted in the same transaction as the insert, so parallel creates cannot overshoot.
    if (plan && plan->max_projects && storage::projects::count(c, owner.id) >= *plan->max_projects) return false;
    storage::projects::insert(c, row);
    return true;
  });
  if (!created) return plan_limit_exceeded("projects", *plan->max_projects);
  return from_row(row);
}

Result<Project> ProjectService::get(const Developer& owner, const std::string& id) {
  const auto row = db_.read([&](storage::Connection& c) { return storage::projects::find(c, owner.id, id); });
  if (!row) return project_not_found();
  return from_row(*row);
}

Result<Project> ProjectService::update(const Developer& owner, const std::string& id, const nlohmann::json& body) {
  FieldReader fields(body);
  const auto name = fields.optional_string("name", 1, 100);
  const auto description = fields.optional_string("description", 0, 280);
  if (!fields.ok()) return fields.error();
  const std::string now = format_timestamp(clock_.now());
  const auto row = db_.write([&](storage::Connection& c) -> std::optional<storage::ProjectRow> {
    storage::locks::exclusive(c, storage::locks::developer(owner.id));
    auto found = storage::projects::find(c, owner.id, id);
    if (!found) return std::nullopt;
    if (name) found->name = *name;
    if (description) found->description = *description;
    found->updated_at = now;
    storage::projects::update(c, *found);
    return found;
  });
  if (!row) return project_not_found();
  return from_row(*row);
}

Status ProjectService::remove(const Developer& owner, const std::string& id) {
  enum class Outcome { kDeleted, kMissing, kHasApplications };
  const Outcome outcome = db_.write([&](storage::Connection& c) {
    storage::locks::exclusive(c, storage::locks::developer(owner.id));
    const auto found = storage::projects::find(c, owner.id, id);
    if (!found) return Outcome::kMissing;
    if (found->application_count > 0) return Outcome::kHasApplications;
    storage::projects::remove(c, owner.id, id);
    return Outcome::kDeleted;
  });
  if (outcome == Outcome::kMissing) return project_not_found();
  if (outcome == Outcome::kHasApplications) {
    return Error{ErrorCode::kConflict, "The project still has applications; delete or move them first.", nullptr};
  }
  return Ok{};
}

}  // namespace core
