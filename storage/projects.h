// Projects: SQL only. Every query is scoped to a developer, so another developer's id simply
// does not exist here. Functions run on the caller's connection; not thread-safe by themselves.
#pragma once

#include "storage/sql.h"


#include <optional>
#include <string>
#include <vector>

namespace storage {

struct ProjectRow {
  std::string id;
  std::string developer_id;
  std::string name;
  std::string description;
  std::string created_at;
  std::string updated_at;
  int application_count = 0;
};

namespace projects {

void insert(Connection& db, const ProjectRow& row);
std::optional<ProjectRow> find(Connection& db, const std::string& developer_id, const std::string& id);
// Newest first, ids below `before_id` when given, at most `limit` rows.
std::vector<ProjectRow> list(Connection& db, const std::string& developer_id,
                             const std::optional<std::string>& before_id, int limit);
int count(Connection& db, const std::string& developer_id);
void update(Connection& db, const ProjectRow& row);
void remove(Connection& db, const std::string& developer_id, const std::string& id);

}  // namespace projects

}  // namespace storage
