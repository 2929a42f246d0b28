#include "storage/developers.h"


#include "storage/sql.h"
#include "storage/sql.h"

namespace storage {

namespace {

constexpr char kDeveloperColumns[] =
    "id, email, email_key, name, company, plan, virtual_phone, password_hash, firebase_uid, created_at, updated_at, "
    "disabled_at";

DeveloperRow row_of(Statement& query) {
  return DeveloperRow{query.getColumn(0).getString(), query.getColumn(1).getString(), query.getColumn(2).getString(),
                      query.getColumn(3).getString(), query.getColumn(4).getString(), query.getColumn(5).getString(),
                      query.getColumn(6).getString(), text_or_null(query.getColumn(7)),
                      text_or_null(query.getColumn(8)), query.getColumn(9).getString(),
                      query.getColumn(10).getString(), text_or_null(query.getColumn(11))};
}

std::optional<DeveloperRow> find_one(Connection& db, const char* where, const std::string& value) {
  Prepared query_prepared(db, std::string("SELECT ") + kDeveloperColumns + " FROM developers WHERE " + where);
  Statement& query = *query_prepared;
  query.bind(1, value);
  if (!query.executeStep()) return std::nullopt;
  return row_of(query);
}

}  // namespace

namespace developers {

bool insert(Connection& db, const DeveloperRow& row) {
  Prepared statement_prepared(db, std::string("INSERT INTO developers(") + kDeveloperColumns +
                                      ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
  Statement& statement = *statement_prepared;
  statement.bind(1, row.id);
  statement.bind(2, row.email);
  statement.bind(3, row.email_key);
  statement.bind(4, row.name);
  statement.bind(5, row.company);
  statement.bind(6, row.plan);
  statement.bind(7, row.virtual_phone);
  bind_text(statement, 8, row.password_hash);
  bind_text(statement, 9, row.firebase_uid);
  statement.bind(10, row.created_at);
  statement.bind(11, row.updated_at);
  bind_text(statement, 12, row.disabled_at);
  // A taken key (email, virtual phone, Firebase uid) inserts nothing; no error, which would
  // end a PostgreSQL transaction.
  return statement.exec() == 1;
}

std::optional<DeveloperRow> find_by_id(Connection& db, const std::string& id) {
  return find_one(db, "id = ?", id);
}

std::optional<DeveloperRow> find_by_email_key(Connection& db, const std::string& email_key) {
  return find_one(db, "email_key = ?", email_key);
}

std::optional<DeveloperRow> find_by_firebase_uid(Connection& db, const std::string& uid) {
  return find_one(db, "firebase_uid = ?", uid);
}

std::vector<DeveloperRow> list(Connection& db) {
  Prepared query_prepared(db, std::string("SELECT ") + kDeveloperColumns + " FROM developers ORDER BY created_at, id");
  Statement& query = *query_prepared;
  std::vector<DeveloperRow> rows;
  while (query.executeStep()) rows.push_back(row_of(query));
  return rows;
}

bool virtual_phone_taken(Connection& db, const std::string& phone) {
  Prepared query_prepared(db, "SELECT 1 FROM developers WHERE virtual_phone = ?");
  Statement& query = *query_prepared;
  query.bind(1, phone);
  return query.executeStep();
}

void update_profile(Connection& db, const std::string& id, const std::string& name, const std::string& company,
                    const std::string& updated_at) {
  exec_update(db, "UPDATE developers SET name = ?, company = ?, updated_at = ? WHERE id = ?",
              {name, company, updated_at, id});
}

void set_plan(Connection& db, const std::string& id, const std::string& plan, const std::string& updated_at) {
  exec_update(db, "UPDATE developers SET plan = ?, updated_at = ? WHERE id = ?", {plan, updated_at, id});
}

void set_password_hash(Connection& db, const std::string& id, const std::string& password_hash,
                       const std::string& updated_at) {
  exec_update(db, "UPDATE developers SET password_hash = ?, updated_at = ? WHERE id = ?", {password_hash, updated_at, id});
}

void set_disabled_at(Connection& db, const std::string& id, const std::optional<std::string>& disabled_at,
                     const std::string& updated_at) {
  Prepared statement_prepared(db, "UPDATE developers SET disabled_at = ?, updated_at = ? WHERE id = ?");
  Statement& statement = *statement_prepared;
  bind_text(statement, 1, disabled_at);
  statement.bind(2, updated_at);
  statement.bind(3, id);
  statement.exec();
}

void link_firebase(Connection& db, const std::string& id, const std::string& uid, const std::string& updated_at) {
  exec_update(db, "UPDATE developers SET firebase_uid = ?, updated_at = ? WHERE id = ?", {uid, updated_at, id});
}

void remove(Connection& db, const std::string& id) { exec_update(db, "DELETE FROM developers WHERE id = ?", {id}); }

}  // namespace developers

namespace refresh_tokens {

void insert(Connection& db, const RefreshTokenRow& row) {
  Prepared statement_prepared(
      db, "INSERT INTO refresh_tokens(token_hash, developer_id, family_id, auth_time, created_at, expires_at) "
          "VALUES(?, ?, ?, ?, ?, ?)");
  Statement& statement = *statement_prepared;
  statement.bind(1, row.token_hash.data(), static_cast<int>(row.token_hash.size()));
  statement.bind(2, row.developer_id);
  statement.bind(3, row.family_id);
  statement.bind(4, row.auth_time);
  statement.bind(5, row.created_at);
  statement.bind(6, row.expires_at);
  statement.exec();
}

std::optional<RefreshTokenRow> find(Connection& db, const std::string& token_hash) {
  Prepared query_prepared(
      db, "SELECT developer_id, family_id, auth_time, created_at, expires_at, used_at FROM refresh_tokens "
      "WHERE token_hash = ?");
  Statement& query = *query_prepared;
  query.bind(1, token_hash.data(), static_cast<int>(token_hash.size()));
  if (!query.executeStep()) return std::nullopt;
  return RefreshTokenRow{token_hash,
                         query.getColumn(0).getString(),
                         query.getColumn(1).getString(),
                         query.getColumn(2).getString(),
                         query.getColumn(3).getString(),
                         query.getColumn(4).getString(),
                         text_or_null(query.getColumn(5))};
}

bool mark_used(Connection& db, const std::string& token_hash, const std::string& used_at) {
  Prepared statement_prepared(db, "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL");
  Statement& statement = *statement_prepared;
  statement.bind(1, used_at);
  statement.bind(2, token_hash.data(), static_cast<int>(token_hash.size()));
  return statement.exec() == 1;
}

void revoke_family(Connection& db, const std::string& family_id, const std::string& used_at) {
  exec_update(db, "UPDATE refresh_tokens SET used_at = ? WHERE family_id = ? AND used_at IS NULL", {used_at, family_id});
}

int revoke_developer(Connection& db, const std::string& developer_id, const std::string& used_at) {
  Prepared statement_prepared(db, "UPDATE refresh_tokens SET used_at = ? WHERE developer_id = ? AND used_at IS NULL");
  Statement& statement = *statement_prepared;
  statement.bind(1, used_at);
  statement.bind(2, developer_id);
  return statement.exec();
}

}  // namespace refresh_tokens

}  // namespace storage
