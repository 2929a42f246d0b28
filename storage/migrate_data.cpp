#include "storage/migrate_data.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "storage/postgres/store.h"
#include "storage/sqlite/database.h"

namespace storage {

namespace {

// Parents before children (foreign keys); schema_migrations is the target's own.
constexpr const char* kTables[] = {
    "server_meta",   "developers",      "refresh_tokens",     "projects",       "applications",
    "app_credentials", "otp_requests",  "phone_failures",     "sms_jobs",       "inbox_messages",
    "identities",    "events",          "webhooks",           "webhook_deliveries", "outbox_cursors",
    "daily_stats",   "app_phone_activity", "active_phone_days", "idempotency_keys", "receipt_keys",
    "prefix_blocks"};

// Tables whose integer key PostgreSQL generates: its sequence must start past the copied rows.
constexpr std::pair<const char*, const char*> kIdentities[] = {
    {"app_credentials", "id"}, {"sms_jobs", "id"}, {"events", "seq"}};

long long copy_table(SQLite::Database& from, Connection& to, const std::string& table) {
  SQLite::Statement rows(from, "SELECT * FROM " + table);
  const int columns = rows.getColumnCount();
  std::string sql = "INSERT INTO " + table + "(";
  for (int i = 0; i < columns; ++i) sql += std::string(i ? ", " : "") + rows.getColumnName(i);
  sql += ") VALUES(";
  for (int i = 0; i < columns; ++i) sql += i ? ", ?" : "?";
  sql += ")";
  long long copied = 0;
  while (rows.executeStep()) {
    Prepared insert(to, sql);
    for (int i = 0; i < columns; ++i) {
      const auto column = rows.getColumn(i);
      switch (column.getType()) {
        case SQLITE_INTEGER: insert->bind(i + 1, static_cast<long long>(column.getInt64())); break;
        case SQLITE_BLOB: insert->bind(i + 1, column.getBlob(), column.getBytes()); break;
        case SQLITE_NULL: insert->bind(i + 1); break;
        default: insert->bind(i + 1, column.getString()); break;
      }
    }
    insert->exec();
    ++copied;
  }
  return copied;
}

}  // namespace

MigratedData migrate_data(const std::string& sqlite_path, const std::string& postgres_url, const std::string& now) {
  struct stat info {};
  if (::stat(sqlite_path.c_str(), &info) != 0) throw MigrateDataError("'" + sqlite_path + "' does not exist");
  // Open (and migrate) it the way a server does, then read it on a connection of our own.
  const int version = [&] {
    auto source = Database::open({sqlite_path, Durability::kFull}, now);
    return source->migration().to_version;
  }();
  if (version != postgres_schema_version()) {
    throw MigrateDataError("'" + sqlite_path + "' has schema version " + std::to_string(version) +
                           "; this binary copies version " + std::to_string(postgres_schema_version()));
  }
  SQLite::Database from(sqlite_path, SQLite::OPEN_READONLY);
  auto target = PgStore::open({postgres_url, 2, nullptr}, now);
  MigratedData result;
  result.schema_version = version;
  target->write([&](Connection& to) {
    result.tables.clear();
    if (to.query_int64("SELECT count(*) FROM developers") > 0) {
      throw MigrateDataError("the PostgreSQL database at " + redact_url(postgres_url) +
                             " already holds developers; migrate-data only fills an empty database");
    }
    // One snapshot of the source for every table.
    SQLite::Transaction snapshot(from, SQLite::TransactionBehavior::DEFERRED);
    for (const char* table : kTables) {
      to.exec(std::string("DELETE FROM ") + table);  // server_meta rows of the fresh schema, if any
      result.tables.emplace_back(table, copy_table(from, to, table));
    }
    for (const auto& [table, key] : kIdentities) {
      to.exec(std::string("SELECT setval(pg_get_serial_sequence('") + table + "', '" + key + "'), coalesce(max(" + key +
              "), 0) + 1, false) FROM " + table);
    }
  });
  return result;
}

}  // namespace storage
