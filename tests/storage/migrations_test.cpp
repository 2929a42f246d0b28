#include "storage/migrations.h"

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>

#include "storage/database.h"
#include "tests/support/temp_dir.h"

namespace {

int user_version(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet("PRAGMA user_version").getInt();
}

}  // namespace

TEST_CASE("a new database is created in WAL mode and migrated to the latest version") {
  testing::TempDir dir;
  const std::string path = dir.file("db.sqlite");
  auto db = storage::Database::open({path}, "2026-07-03T14:22:10.000Z");
  CHECK(db->migration().from_version == 0);
  CHECK(db->migration().to_version == storage::latest_schema_version());
  db->read([](SQLite::Database& c) {
    CHECK(c.execAndGet("PRAGMA journal_mode").getString() == "wal");
    CHECK(c.execAndGet("PRAGMA foreign_keys").getInt() == 1);
    CHECK(c.execAndGet("PRAGMA application_id").getInt() == storage::kApplicationId);
    CHECK(c.execAndGet("SELECT count(*) FROM schema_migrations").getInt() ==
          static_cast<int>(storage::migrations().size()));
  });
  CHECK(db->ping());
}

TEST_CASE("durability full and normal set the synchronous pragma of the writer") {
  testing::TempDir dir;
  auto full = storage::Database::open({dir.file("full.sqlite"), storage::Durability::kFull}, "t");
  CHECK(full->write([](SQLite::Database& c) { return c.execAndGet("PRAGMA synchronous").getInt(); }) == 2);
  auto normal = storage::Database::open({dir.file("normal.sqlite"), storage::Durability::kNormal}, "t");
  CHECK(normal->write([](SQLite::Database& c) { return c.execAndGet("PRAGMA synchronous").getInt(); }) == 1);
}

TEST_CASE("migrating twice is a no-op") {
  testing::TempDir dir;
  const std::string path = dir.file("db.sqlite");
  storage::Database::open({path}, "first").reset();
  const std::string schema_before = [&] {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    return db.execAndGet("SELECT group_concat(sql, ';') FROM sqlite_schema").getString();
  }();
  auto again = storage::Database::open({path}, "second");
  CHECK(again->migration().from_version == storage::latest_schema_version());
  CHECK(again->migration().to_version == storage::latest_schema_version());
  again->read([&](SQLite::Database& c) {
    CHECK(c.execAndGet("SELECT group_concat(sql, ';') FROM sqlite_schema").getString() == schema_before);
    CHECK(c.execAndGet("SELECT count(*) FROM schema_migrations WHERE applied_at = 'second'").getInt() == 0);
  });
}

TEST_CASE("a database written by a newer version is refused and left untouched") {
  testing::TempDir dir;
  const std::string path = dir.file("db.sqlite");
  storage::Database::open({path}, "t").reset();
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA user_version = " + std::to_string(storage::latest_schema_version() + 1));
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db.exec("PRAGMA journal_mode = DELETE");
  }
  const std::string bytes_before = testing::read_file(path);
  try {
    storage::Database::open({path}, "t");
    FAIL("a newer database was opened");
  } catch (const storage::IncompatibleDatabase& e) {
    CHECK(std::string(e.what()).find("newer cobinar-phone") != std::string::npos);
  }
  CHECK(testing::read_file(path) == bytes_before);
  CHECK(user_version(path) == storage::latest_schema_version() + 1);
}

TEST_CASE("a foreign SQLite database or a non-database file is refused") {
  testing::TempDir dir;
  const std::string foreign = dir.file("foreign.sqlite");
  {
    SQLite::Database db(foreign, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE customers(id INTEGER)");
  }
  CHECK_THROWS_AS(storage::Database::open({foreign}, "t"), storage::IncompatibleDatabase);

  const std::string garbage = dir.file("garbage.sqlite");
  testing::write_file(garbage, std::string(8192, 'x'));
  CHECK_THROWS_AS(storage::Database::open({garbage}, "t"), storage::OpenError);
  CHECK(testing::read_file(garbage) == std::string(8192, 'x'));
}
