// Both engines reach the same schema at head: every table and column SQLite's migration
// history creates, PostgreSQL's schema.sql plus its numbered migrations create too (and the
// reverse), at the same version. Runs when the suite runs on PostgreSQL (COBINAR_TEST_POSTGRES).
#include <doctest/doctest.h>

#include <set>

#include "storage/postgres/store.h"
#include "storage/sqlite/database.h"
#include "storage/sqlite/migrations.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace {

using Columns = std::set<std::string>;  // "table.column"

Columns read_columns(storage::Store& store, const std::string& sql) {
  return store.read([&](storage::Connection& c) {
    Columns columns;
    storage::Prepared query(c, sql);
    while (query->executeStep()) columns.insert(query->getColumn(0).getString() + "." + query->getColumn(1).getString());
    return columns;
  });
}

}  // namespace

TEST_CASE("SQLite and PostgreSQL reach the same tables and columns at the same schema version") {
  if (testing::test_postgres_url().empty()) return;  // the SQLite-only pass has no second engine
  const std::string now = "2026-07-03T14:22:10.000Z";
  testing::TempDir dir;
  auto sqlite = storage::Database::open({dir.file("parity.sqlite")}, now);
  testing::TempPostgresDatabase database;
  auto postgres = storage::PgStore::open({database.url()}, now);

  CHECK(storage::latest_schema_version() == storage::postgres_schema_version());

  const Columns in_sqlite = read_columns(
      *sqlite, "SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p "
               "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'");
  const Columns in_postgres = read_columns(
      *postgres, "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()");
  // Engine-specific by design: PostgreSQL counts the shared rate limits in a table (SQLite keeps
  // them in memory) and records the key's fingerprint and migration names; the same for the abuse
  // breaker's sends and the daily budget's counts (SPEC §17).
  const std::set<std::string> only_postgres_tables = {"rate_limit_events", "server_meta", "schema_migrations",
                                                      "breaker_sends", "daily_sends"};
  // PostgreSQL shards the per-day counters by connection (SQLite's one writer needs no shards).
  const std::set<std::string> only_postgres_columns = {"active_phone_days.shard", "daily_stats.shard"};
  for (const auto& column : in_sqlite) {
    CAPTURE(column);
    CHECK(in_postgres.count(column) == 1);
  }
  for (const auto& column : in_postgres) {
    CAPTURE(column);
    const std::string table = column.substr(0, column.find('.'));
    if (only_postgres_tables.count(table) == 0 && only_postgres_columns.count(column) == 0) {
      CHECK(in_sqlite.count(column) == 1);
    }
  }
  CHECK(in_sqlite.size() > 50);
}
