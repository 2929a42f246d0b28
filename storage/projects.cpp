#include "storage/projects.h"


#include "storage/sql.h"

namespace storage::projects {

namespace {

constexpr char kSelect[] =
    "SELECT p.id, p.developer_id, p.name, p.description, p.created_at, p.updated_at, "
    "(SELECT count(*) FROM applications a WHERE a.project_id = p.id) FROM projects p ";

ProjectRow read_row(Statement& query) {
  return ProjectRow{query.getColumn(0).getString(), query.getColumn(1).getString(), query.getColumn(2).getString(),
                    query.getColumn(3).getString(), query.getColumn(4).getString(), query.getColumn(5).getString(),
                    query.getColumn(6).getInt()};
}

}  // namespace

void insert(Connection& db, const ProjectRow& row) {
  Prepared statement_prepared(
      db, "INSERT INTO projects(id, developer_id, name, description, created_at, updated_at) VALUES(?, ?, ?, ?, ?, ?)");
  Statement& statement = *statement_prepared;
  statement.bind(1, row.id);
  statement.bind(2, row.developer_id);
  statement.bind(3, row.name);
  statement.bind(4, row.description);
  statement.bind(5, row.created_at);
  statement.bind(6, row.updated_at);
  statement.exec();
}

std::optional<ProjectRow> find(Connection& db, const std::string& developer_id, const std::string& id) {
  Prepared query_prepared(db, std::string(kSelect) + "WHERE p.developer_id = ? AND p.id = ?");
  Statement& query = *query_prepared;
  query.bind(1, developer_id);
  query.bind(2, id);
  if (!query.executeStep()) return std::nullopt;
  return read_row(query);
}

std::vector<ProjectRow> list(Connection& db, const std::string& developer_id,
                             const std::optional<std::string>& before_id, int limit) {
  Prepared query_prepared(db, std::string(kSelect) + "WHERE p.developer_id = ? AND (? IS NULL OR p.id < ?) " +
                                  "ORDER BY p.id DESC LIMIT ?");
  Statement& query = *query_prepared;
  query.bind(1, developer_id);
  if (before_id) {
    query.bind(2, *before_id);
    query.bind(3, *before_id);
  }
  query.bind(4, limit);
  std::vector<ProjectRow> rows;
  while (query.executeStep()) rows.push_back(read_row(query));
  return rows;
}

int count(Connection& db, const std::string& developer_id) {
  Prepared query_prepared(db, "SELECT count(*) FROM projects WHERE developer_id = ?");
  Statement& query = *query_prepared;
  query.bind(1, developer_id);
  query.executeStep();
  return query.getColumn(0).getInt();
}

void update(Connection& db, const ProjectRow& row) {
  Prepared statement_prepared(
      db, "UPDATE projects SET name = ?, description = ?, updated_at = ? WHERE developer_id = ? AND id = ?");
  Statement& statement = *statement_prepared;
  statement.bind(1, row.name);
  statement.bind(2, row.description);
  statement.bind(3, row.updated_at);
  statement.bind(4, row.developer_id);
  statement.bind(5, row.id);
  statement.exec();
}

void remove(Connection& db, const std::string& developer_id, const std::string& id) {
  Prepared statement_prepared(db, "DELETE FROM projects WHERE developer_id = ? AND id = ?");
  Statement& statement = *statement_prepared;
  statement.bind(1, developer_id);
  statement.bind(2, id);
  statement.exec();
}

}  // namespace storage::projects
