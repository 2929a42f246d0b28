#include "storage/sqlite/migrations.h"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <string>

#include "embedded/embedded.h"

namespace storage {

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> list = {
      {1, "schema", embedded::kSchemaSql},
      {2, "developers", embedded::kMigration0002},
      {3, "projects_applications", embedded::kMigration0003},
      {4, "otp", embedded::kMigration0004},
      {5, "webhooks", embedded::kMigration0005},
      {6, "analytics", embedded::kMigration0006},
      {7, "developer_status", embedded::kMigration0007},
      {8, "active_phone_days", embedded::kMigration0008},
      {9, "history_without_created_indexes", embedded::kMigration0009},
      {10, "phone_numbers_and_policy", embedded::kMigration0010},
      {11, "idempotency_and_receipts", embedded::kMigration0011},
      {12, "abuse_controls", embedded::kMigration0012},
  };
  return list;
}

int latest_schema_version() { return migrations().back().version; }

namespace {

int pragma_int(SQLite::Database& db, const char* pragma) {
  return db.execAndGet(std::string("PRAGMA ") + pragma).getInt();
}

bool has_tables(SQLite::Database& db) {
  return db.execAndGet("SELECT count(*) FROM sqlite_schema").getInt() > 0;
}

}  // namespace

void check_compatible(SQLite::Database& db) {
  const int application_id = pragma_int(db, "application_id");
  const int version = pragma_int(db, "user_version");
  if (application_id != kApplicationId && (application_id != 0 || has_tables(db))) {
    throw IncompatibleDatabase("'" + db.getFilename() +
                               "' is not a cobinar-phone database (it holds other data); refusing to use it");
  }
  if (version > latest_schema_version()) {
    throw IncompatibleDatabase("'" + db.getFilename() + "' has schema version " + std::to_string(version) +
                               ", written by a newer cobinar-phone; this binary knows up to version " +
                               std::to_string(latest_schema_version()) + ". Upgrade cobinar-phone.");
  }
}

MigrationOutcome migrate(SQLite::Database& db, std::string_view applied_at) {
  SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
  // Re-checked under the write lock: another process may have migrated meanwhile.
  check_compatible(db);
  const int from = pragma_int(db, "user_version");
  for (const Migration& migration : migrations()) {
    if (migration.version <= from) continue;
    db.exec(std::string(migration.sql));
    SQLite::Statement record(db, "INSERT INTO schema_migrations(version, name, applied_at) VALUES(?, ?, ?)");
    record.bind(1, migration.version);
    record.bind(2, std::string(migration.name));
    record.bind(3, std::string(applied_at));
    record.exec();
  }
  const int to = latest_schema_version();
  if (from != to) {
    db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    db.exec("PRAGMA user_version = " + std::to_string(to));
  }
  transaction.commit();
  return {from, to};
}

}  // namespace storage
