#include "storage/sqlite/migrations.h"
#include "storage/sqlite/connection.h"

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>

#include <SQLiteCpp/Statement.h>

#include <string>
#include <vector>

#include "storage/analytics.h"
#include "storage/sqlite/database.h"
#include "storage/developers.h"
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
  db->read([](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_);
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
  CHECK(full->write([](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_); return c.execAndGet("PRAGMA synchronous").getInt(); }) == 2);
  auto normal = storage::Database::open({dir.file("normal.sqlite"), storage::Durability::kNormal}, "t");
  CHECK(normal->write([](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_); return c.execAndGet("PRAGMA synchronous").getInt(); }) == 1);
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
  again->read([&](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_);
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

TEST_CASE("migration 7 adds developers.disabled_at to a version-6 database, keeping its developers enabled") {
  testing::TempDir dir;
  const std::string path = dir.file("db.sqlite");
  {
    // A database as the binary before migration 7 left it.
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (const auto& migration : storage::migrations()) {
      if (migration.version > 6) break;
      db.exec(std::string(migration.sql));
    }
    db.exec("PRAGMA application_id = " + std::to_string(storage::kApplicationId));
    db.exec("PRAGMA user_version = 6");
    db.exec("INSERT INTO developers(id, email, email_key, plan, virtual_phone, password_hash, created_at, updated_at) "
            "VALUES('d1', 'A@example.com', 'a@example.com', 'free', '+999100000001', 'hash', 't0', 't0')");
  }
  auto db = storage::Database::open({path}, "t1");
  CHECK(db->migration().from_version == 6);
  CHECK(db->migration().to_version == storage::latest_schema_version());
  db->write([](storage::Connection& c) {
    auto row = storage::developers::find_by_email_key(c, "a@example.com");
    REQUIRE(row);
    CHECK_FALSE(row->disabled_at.has_value());
    CHECK(row->password_hash == "hash");

    storage::developers::set_disabled_at(c, "d1", std::string("t2"), "t2");
    storage::developers::set_password_hash(c, "d1", "new hash", "t2");
    const auto listed = storage::developers::list(c);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].disabled_at == "t2");
    CHECK(listed[0].password_hash == "new hash");
    CHECK(listed[0].updated_at == "t2");
    storage::developers::set_disabled_at(c, "d1", std::nullopt, "t3");
    CHECK_FALSE(storage::developers::find_by_id(c, "d1")->disabled_at.has_value());

    for (const char* hash : {"h1", "h2"}) {
      storage::refresh_tokens::insert(c, {hash, "d1", "f", "t0", "t0", "t9", std::nullopt});
    }
    CHECK(storage::refresh_tokens::revoke_developer(c, "d1", "t4") == 2);
    CHECK(storage::refresh_tokens::find(c, "h1")->used_at == "t4");
    CHECK(storage::refresh_tokens::revoke_developer(c, "d1", "t5") == 0);
  });
}

TEST_CASE("migration 8 derives the per-day active phone counts from identities and app activity") {
  testing::TempDir dir;
  const std::string path = dir.file("db.sqlite");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (const auto& migration : storage::migrations()) {
      if (migration.version > 7) break;
      db.exec(std::string(migration.sql));
    }
    db.exec("PRAGMA application_id = " + std::to_string(storage::kApplicationId));
    db.exec("PRAGMA user_version = 7");
    // Developer d1: three phones on two days; d2: one. App a1: two phones on one day.
    for (const char* row : {"('d1', '+1', 'i1', 't', '2026-03-01T10:00:00.000Z', 1, 'a1')",
                            "('d1', '+2', 'i2', 't', '2026-03-01T23:59:59.999Z', 2, 'a1')",
                            "('d1', '+3', 'i3', 't', '2026-03-02T00:00:00.000Z', 1, 'a2')",
                            "('d2', '+1', 'i4', 't', '2026-03-02T08:00:00.000Z', 1, 'a3')"}) {
      db.exec(std::string("INSERT INTO identities(developer_id, phone, id, created_at, last_verified_at, "
                          "verification_count, last_application_id) VALUES") + row);
    }
    db.exec("INSERT INTO app_phone_activity VALUES('a1', '+1', '2026-03-01T10:00:00.000Z'), "
            "('a1', '+2', '2026-03-01T11:00:00.000Z'), ('a2', '+3', '2026-03-02T00:00:00.000Z')");
  }
  auto db = storage::Database::open({path}, "t1");
  CHECK(db->migration().from_version == 7);
  db->read([](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_);
    SQLite::Statement q(c, "SELECT scope || ' ' || scope_id || ' ' || day || ' ' || phones FROM active_phone_days ORDER BY 1");
    std::vector<std::string> rows;
    while (q.executeStep()) rows.push_back(q.getColumn(0).getString());
    CHECK(rows == std::vector<std::string>{"application a1 2026-03-01 2", "application a2 2026-03-02 1",
                                           "developer d1 2026-03-01 2", "developer d1 2026-03-02 1",
                                           "developer d2 2026-03-02 1"});
    CHECK(storage::analytics::active_phones(c_, storage::ActiveScope::kDeveloper, "d1", "2026-02-28T00:00:00.000Z") == 3);
    CHECK(storage::analytics::active_phones(c_, storage::ActiveScope::kDeveloper, "d1", "2026-03-01T10:00:00.001Z") == 2);
    CHECK(storage::analytics::active_phones(c_, storage::ActiveScope::kDeveloper, "d1", "2026-03-02T00:00:00.000Z") == 1);
    CHECK(storage::analytics::active_phones(c_, storage::ActiveScope::kApplication, "a1", "2026-03-01T10:30:00.000Z") == 1);
    CHECK(storage::analytics::active_phones(c_, storage::ActiveScope::kApplication, "a1", "2026-03-02T00:00:00.000Z") == 0);
  });
}
