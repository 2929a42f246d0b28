#include "storage/applications.h"


#include "storage/sql.h"
#include "storage/sql.h"

namespace storage {

namespace {

constexpr char kSelect[] =
    "SELECT a.id, a.developer_id, a.project_id, a.name, a.environment, a.status, a.client_id, a.created_at, "
    "a.updated_at, a.rotated_at, "
    "(SELECT preview FROM app_credentials c WHERE c.app_id = a.id AND c.type = 'secret' AND c.expires_at IS NULL), "
    "(SELECT preview FROM app_credentials c WHERE c.app_id = a.id AND c.type = 'api' AND c.expires_at IS NULL), "
    "a.policy "
    "FROM applications a ";

ApplicationRow read_row(Statement& query) {
  return ApplicationRow{query.getColumn(0).getString(),  query.getColumn(1).getString(),
                        query.getColumn(2).getString(),  query.getColumn(3).getString(),
                        query.getColumn(4).getString(),  query.getColumn(5).getString(),
                        query.getColumn(6).getString(),  query.getColumn(7).getString(),
                        query.getColumn(8).getString(),  text_or_null(query.getColumn(9)),
                        query.getColumn(10).getString(), query.getColumn(11).getString(),
                        text_or_null(query.getColumn(12))};
}

}  // namespace

namespace applications {

void set_policy(Connection& db, const std::string& id, const std::string& policy_json, const std::string& updated_at) {
  Prepared statement(db, "UPDATE applications SET policy = ?, updated_at = ? WHERE id = ?");
  statement->bind(1, policy_json);
  statement->bind(2, updated_at);
  statement->bind(3, id);
  statement->exec();
}

void insert(Connection& db, const ApplicationRow& row) {
  Prepared statement_prepared(db,
                              "INSERT INTO applications(id, developer_id, project_id, name, environment, status, "
                              "client_id, created_at, updated_at, rotated_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)");
  Statement& statement = *statement_prepared;
  statement.bind(1, row.id);
  statement.bind(2, row.developer_id);
  statement.bind(3, row.project_id);
  statement.bind(4, row.name);
  statement.bind(5, row.environment);
  statement.bind(6, row.status);
  statement.bind(7, row.client_id);
  statement.bind(8, row.created_at);
  statement.bind(9, row.updated_at);
  statement.exec();
}

std::optional<ApplicationRow> find(Connection& db, const std::string& developer_id, const std::string& id) {
  Prepared query_prepared(db, std::string(kSelect) + "WHERE a.developer_id = ? AND a.id = ?");
  Statement& query = *query_prepared;
  query.bind(1, developer_id);
  query.bind(2, id);
  if (!query.executeStep()) return std::nullopt;
  return read_row(query);
}

std::optional<ApplicationRow> find_any(Connection& db, const std::string& id) {
  Prepared query_prepared(db, std::string(kSelect) + "WHERE a.id = ?");
  Statement& query = *query_prepared;
  query.bind(1, id);
  if (!query.executeStep()) return std::nullopt;
  return read_row(query);
}

std::vector<ApplicationRow> list(Connection& db, const std::string& developer_id,
                                 const std::optional<std::string>& project_id,
                                 const std::optional<std::string>& before_id, int limit) {
  Prepared query_prepared(db, std::string(kSelect) +
                                  "WHERE a.developer_id = ? AND (? IS NULL OR a.project_id = ?) "
                                  "AND (? IS NULL OR a.id < ?) ORDER BY a.id DESC LIMIT ?");
  Statement& query = *query_prepared;
  query.bind(1, developer_id);
  if (project_id) {
    query.bind(2, *project_id);
    query.bind(3, *project_id);
  }
  if (before_id) {
    query.bind(4, *before_id);
    query.bind(5, *before_id);
  }
  query.bind(6, limit);
  std::vector<ApplicationRow> rows;
  while (query.executeStep()) rows.push_back(read_row(query));
  return rows;
}

int count(Connection& db, const std::string& developer_id) {
  Prepared query_prepared(db, "SELECT count(*) FROM applications WHERE developer_id = ?");
  Statement& query = *query_prepared;
  query.bind(1, developer_id);
  query.executeStep();
  return query.getColumn(0).getInt();
}

void update(Connection& db, const ApplicationRow& row) {
  Prepared statement_prepared(db,
                              "UPDATE applications SET project_id = ?, name = ?, status = ?, updated_at = ?, "
                              "rotated_at = ? WHERE developer_id = ? AND id = ?");
  Statement& statement = *statement_prepared;
  statement.bind(1, row.project_id);
  statement.bind(2, row.name);
  statement.bind(3, row.status);
  statement.bind(4, row.updated_at);
  if (row.rotated_at) {
    statement.bind(5, *row.rotated_at);
  } else {
    statement.bind(5);
  }
  statement.bind(6, row.developer_id);
  statement.bind(7, row.id);
  statement.exec();
}

void remove(Connection& db, const std::string& developer_id, const std::string& id) {
  Prepared statement_prepared(db, "DELETE FROM applications WHERE developer_id = ? AND id = ?");
  Statement& statement = *statement_prepared;
  statement.bind(1, developer_id);
  statement.bind(2, id);
  statement.exec();
}

}  // namespace applications

namespace credentials {

void insert(Connection& db, const CredentialRow& row) {
  Prepared statement_prepared(db,
                              "INSERT INTO app_credentials(app_id, type, lookup_hash, verifier, ciphertext, preview, "
                              "created_at, expires_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
  Statement& statement = *statement_prepared;
  statement.bind(1, row.app_id);
  statement.bind(2, row.type);
  bind_blob(statement, 3, row.lookup_hash);
  bind_blob(statement, 4, row.verifier);
  bind_blob(statement, 5, row.ciphertext);
  statement.bind(6, row.preview);
  statement.bind(7, row.created_at);
  if (row.expires_at) {
    statement.bind(8, *row.expires_at);
  } else {
    statement.bind(8);
  }
  statement.exec();
}

std::optional<ApiKeyMatch> app_for_api_key(Connection& db, const std::string& lookup_hash, const std::string& now) {
  Prepared query_prepared(db,
                          "SELECT app_id, expires_at FROM app_credentials WHERE lookup_hash = ? AND type = 'api' "
                          "AND (expires_at IS NULL OR expires_at > ?)");
  Statement& query = *query_prepared;
  query.bind(1, lookup_hash.data(), static_cast<int>(lookup_hash.size()));
  query.bind(2, now);
  if (!query.executeStep()) return std::nullopt;
  return ApiKeyMatch{query.getColumn(0).getString(), text_or_null(query.getColumn(1))};
}

std::vector<CredentialRow> live(Connection& db, const std::string& app_id, const std::string& type,
                                const std::string& now) {
  Prepared query_prepared(db,
                          "SELECT lookup_hash, verifier, ciphertext, preview, created_at, expires_at FROM app_credentials "
                          "WHERE app_id = ? AND type = ? AND (expires_at IS NULL OR expires_at > ?) "
                          "ORDER BY expires_at IS NOT NULL, id DESC");
  Statement& query = *query_prepared;
  query.bind(1, app_id);
  query.bind(2, type);
  query.bind(3, now);
  std::vector<CredentialRow> rows;
  while (query.executeStep()) {
    rows.push_back(CredentialRow{app_id, type, blob_or_null(query.getColumn(0)), blob_or_null(query.getColumn(1)),
                                 blob_or_null(query.getColumn(2)), query.getColumn(3).getString(),
                                 query.getColumn(4).getString(), text_or_null(query.getColumn(5))});
  }
  return rows;
}

void retire_current(Connection& db, const std::string& app_id, const std::string& type,
                    const std::optional<std::string>& expires_at) {
  if (expires_at) {
    Prepared statement_prepared(
        db, "UPDATE app_credentials SET expires_at = ? WHERE app_id = ? AND type = ? AND expires_at IS NULL");
    Statement& statement = *statement_prepared;
    statement.bind(1, *expires_at);
    statement.bind(2, app_id);
    statement.bind(3, type);
    statement.exec();
  } else {
    Prepared statement_prepared(db, "DELETE FROM app_credentials WHERE app_id = ? AND type = ? AND expires_at IS NULL");
    Statement& statement = *statement_prepared;
    statement.bind(1, app_id);
    statement.bind(2, type);
    statement.exec();
  }
}

void delete_expired(Connection& db, const std::string& app_id, const std::string& now) {
  Prepared statement_prepared(db, "DELETE FROM app_credentials WHERE app_id = ? AND expires_at <= ?");
  Statement& statement = *statement_prepared;
  statement.bind(1, app_id);
  statement.bind(2, now);
  statement.exec();
}

}  // namespace credentials

}  // namespace storage
