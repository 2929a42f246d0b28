#include "storage/sqlite/backup.h"
#include "storage/sqlite/connection.h"

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "storage/sqlite/database.h"
#include "storage/sqlite/migrations.h"
#include "tests/support/temp_dir.h"

namespace {

const std::string kKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";

unsigned mode_of(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 0777;
}

ino_t inode_of(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_ino;
}

int count_rows(const std::string& path, const std::string& table) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet("SELECT count(*) FROM " + table).getInt();
}

// A migrated database with a table `t` holding rows 1..rows, closed (WAL folded in).
void make_database(const std::string& path, int rows) {
  auto db = storage::Database::open({path}, "t");
  db->write([&](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_);
    c.exec("CREATE TABLE t(x INTEGER PRIMARY KEY)");
    for (int i = 1; i <= rows; ++i) c.exec("INSERT INTO t VALUES(" + std::to_string(i) + ")");
  });
}

std::size_t files_in(const std::filesystem::path& dir) {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir), {}));
}

}  // namespace

TEST_CASE("backup copies a database under concurrent writes as of one commit, 0600, integrity-checked") {
  testing::TempDir dir;
  const std::string path = dir.file("db.sqlite");
  auto db = storage::Database::open({path}, "t");
  db->write([](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_); c.exec("CREATE TABLE t(x INTEGER PRIMARY KEY)"); });

  // Each write inserts the next number: a consistent copy holds exactly 1..k for some k.
  std::mutex mutex;
  std::condition_variable progressed;
  int acknowledged = 0;
  std::atomic<bool> stop = false;
  std::thread writer([&] {
    for (int i = 1; !stop; ++i) {
      db->write([&](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_); c.exec("INSERT INTO t VALUES(" + std::to_string(i) + ")"); });
      std::lock_guard lock(mutex);
      acknowledged = i;
      progressed.notify_all();
    }
  });
  int before = 0;
  {
    std::unique_lock lock(mutex);
    progressed.wait(lock, [&] { return acknowledged >= 50; });
    before = acknowledged;
  }
  const auto outcome = storage::backup_database(path, dir.file("copy.sqlite"), std::nullopt);
  stop = true;
  writer.join();

  CHECK(outcome.path == dir.file("copy.sqlite"));
  CHECK(outcome.schema_version == storage::latest_schema_version());
  CHECK(outcome.bytes == std::filesystem::file_size(dir.file("copy.sqlite")));
  CHECK_FALSE(outcome.key_path);
  CHECK(mode_of(dir.file("copy.sqlite")) == 0600);
  SQLite::Database copy(dir.file("copy.sqlite"), SQLite::OPEN_READONLY);
  CHECK(copy.execAndGet("PRAGMA integrity_check").getString() == "ok");
  CHECK(copy.execAndGet("PRAGMA journal_mode").getString() == "delete");  // readable without a WAL
  CHECK(copy.execAndGet("PRAGMA application_id").getInt() == storage::kApplicationId);
  const int rows = copy.execAndGet("SELECT count(*) FROM t").getInt();
  CHECK(rows >= before);
  CHECK(copy.execAndGet("SELECT coalesce(max(x), 0) FROM t").getInt() == rows);
  // Only the database, its sidecars and the copy: no temporary file is left behind.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    CHECK_MESSAGE(entry.path().filename().string().find(".tmp-") == std::string::npos, entry.path());
  }
}

TEST_CASE("backup with a key copies it 0600 beside the copy") {
  testing::TempDir dir;
  make_database(dir.file("db.sqlite"), 3);
  testing::write_file(dir.file("db.sqlite.key"), kKey);
  const auto outcome = storage::backup_database(dir.file("db.sqlite"), dir.file("b.sqlite"), dir.file("db.sqlite.key"));
  REQUIRE(outcome.key_path);
  CHECK(*outcome.key_path == dir.file("b.sqlite.key"));
  CHECK(testing::read_file(dir.file("b.sqlite.key")) == kKey);
  CHECK(mode_of(dir.file("b.sqlite.key")) == 0600);
}

TEST_CASE("backup refuses, leaving nothing behind") {
  testing::TempDir dir;
  make_database(dir.file("db.sqlite"), 3);
  testing::write_file(dir.file("db.sqlite.key"), kKey);
  testing::write_file(dir.file("taken.sqlite"), "keep me");
  testing::write_file(dir.file("k.sqlite.key"), "keep me");
  {
    SQLite::Database foreign(dir.file("foreign.sqlite"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    foreign.exec("CREATE TABLE other(x)");
  }
  struct Case {
    std::string name, db, out;
    std::optional<std::string> key;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"existing out", dir.file("db.sqlite"), dir.file("taken.sqlite"), std::nullopt, "already exists"},
      {"out is the database", dir.file("db.sqlite"), dir.file("db.sqlite"), std::nullopt, "is the database itself"},
      {"out is the database, spelled otherwise", dir.file("db.sqlite"), dir.file("./x/../db.sqlite"), std::nullopt,
       "is the database itself"},
      {"missing database", dir.file("none.sqlite"), dir.file("n.sqlite"), std::nullopt, "does not exist"},
      {"foreign database", dir.file("foreign.sqlite"), dir.file("f.sqlite"), std::nullopt, "not a cobinar-phone database"},
      {"missing directory", dir.file("db.sqlite"), dir.file("nowhere/b.sqlite"), std::nullopt, "cannot create"},
      {"existing key copy", dir.file("db.sqlite"), dir.file("k.sqlite"), dir.file("db.sqlite.key"), "already exists"},
      {"missing key", dir.file("db.sqlite"), dir.file("m.sqlite"), dir.file("none.key"), "does not exist"},
  };
  const std::size_t before = files_in(dir.path());
  for (const auto& c : cases) {
    CAPTURE(c.name);
    try {
      storage::backup_database(c.db, c.out, c.key);
      FAIL("no error");
    } catch (const storage::BackupError& e) {
      CHECK_MESSAGE(std::string(e.what()).find(c.expected) != std::string::npos, e.what());
    }
    CHECK(files_in(dir.path()) == before);
  }
  CHECK(testing::read_file(dir.file("taken.sqlite")) == "keep me");
  CHECK(testing::read_file(dir.file("k.sqlite.key")) == "keep me");
  CHECK(count_rows(dir.file("db.sqlite"), "t") == 3);
}

TEST_CASE("restore replaces the database, keeps the old one, and restores the key on request") {
  testing::TempDir dir;
  make_database(dir.file("old.sqlite"), 2);
  make_database(dir.file("source.sqlite"), 7);
  testing::write_file(dir.file("source.sqlite.key"), kKey);
  storage::backup_database(dir.file("source.sqlite"), dir.file("b.sqlite"), dir.file("source.sqlite.key"));
  testing::write_file(dir.file("old.sqlite.key"), "old key\n");
  testing::write_file(dir.file("old.sqlite-shm"), "stale");

  const auto outcome =
      storage::restore_database(dir.file("b.sqlite"), dir.file("old.sqlite"), dir.file("old.sqlite.key"), "STAMP");
  CHECK(outcome.schema_version == storage::latest_schema_version());
  REQUIRE(outcome.previous);
  CHECK(*outcome.previous == dir.file("old.sqlite.before-restore-STAMP"));
  CHECK(count_rows(dir.file("old.sqlite"), "t") == 7);
  CHECK(count_rows(*outcome.previous, "t") == 2);
  CHECK(mode_of(dir.file("old.sqlite")) == 0600);
  CHECK_FALSE(std::filesystem::exists(dir.file("old.sqlite-shm")));
  REQUIRE(outcome.key_path);
  CHECK(testing::read_file(dir.file("old.sqlite.key")) == kKey);
  CHECK(mode_of(dir.file("old.sqlite.key")) == 0600);
  REQUIRE(outcome.previous_key);
  CHECK(testing::read_file(*outcome.previous_key) == "old key\n");
  // The restored file opens and migrates like any other.
  auto reopened = storage::Database::open({dir.file("old.sqlite")}, "t");
  CHECK(reopened->migration().from_version == storage::latest_schema_version());

  // Into a path with no database yet: nothing to keep.
  const auto fresh = storage::restore_database(dir.file("b.sqlite"), dir.file("fresh.sqlite"), std::nullopt, "STAMP");
  CHECK_FALSE(fresh.previous);
  CHECK_FALSE(fresh.key_path);
  CHECK(count_rows(dir.file("fresh.sqlite"), "t") == 7);
}

TEST_CASE("restore refuses a file that is not an intact cobinar-phone database of this version, untouched") {
  testing::TempDir dir;
  make_database(dir.file("db.sqlite"), 4);
  make_database(dir.file("good.sqlite"), 1);
  storage::backup_database(dir.file("good.sqlite"), dir.file("newer.sqlite"), std::nullopt);
  {
    SQLite::Database newer(dir.file("newer.sqlite"), SQLite::OPEN_READWRITE);
    newer.exec("PRAGMA user_version = 999");
  }
  {
    SQLite::Database foreign(dir.file("foreign.sqlite"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    foreign.exec("CREATE TABLE other(x)");
  }
  testing::write_file(dir.file("text.sqlite"), "this is not a database, not even close to one......");
  testing::write_file(dir.file("empty.sqlite"), "");
  // A damaged copy: every page after the first overwritten.
  storage::backup_database(dir.file("good.sqlite"), dir.file("damaged.sqlite"), std::nullopt);
  {
    std::string bytes = testing::read_file(dir.file("damaged.sqlite"));
    REQUIRE(bytes.size() > 8192);
    for (std::size_t i = 4096; i < bytes.size(); i += 7) bytes[i] = '\x5a';
    testing::write_file(dir.file("damaged.sqlite"), bytes);
  }
  storage::backup_database(dir.file("good.sqlite"), dir.file("live.sqlite"), std::nullopt);
  testing::write_file(dir.file("live.sqlite-wal"), "frames");

  struct Case {
    std::string name, from;
    std::optional<std::string> key;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"missing", dir.file("none.sqlite"), std::nullopt, "does not exist"},
      {"newer schema", dir.file("newer.sqlite"), std::nullopt, "newer cobinar-phone"},
      {"foreign", dir.file("foreign.sqlite"), std::nullopt, "not a cobinar-phone database"},
      {"not SQLite", dir.file("text.sqlite"), std::nullopt, "text.sqlite"},
      {"empty", dir.file("empty.sqlite"), std::nullopt, "not a cobinar-phone database"},
      {"damaged", dir.file("damaged.sqlite"), std::nullopt, "damaged.sqlite"},
      {"with a WAL beside it", dir.file("live.sqlite"), std::nullopt, "write-ahead log"},
      {"the database itself", dir.file("db.sqlite"), std::nullopt, "is the database itself"},
      {"missing key", dir.file("good.sqlite"), dir.file("db.sqlite.key"), "good.sqlite.key"},
  };
  const ino_t inode = inode_of(dir.file("db.sqlite"));
  const std::size_t before = files_in(dir.path());
  for (const auto& c : cases) {
    CAPTURE(c.name);
    try {
      storage::restore_database(c.from, dir.file("db.sqlite"), c.key, "STAMP");
      FAIL("no error");
    } catch (const storage::BackupError& e) {
      CHECK_MESSAGE(std::string(e.what()).find(c.expected) != std::string::npos, e.what());
    }
    CHECK(files_in(dir.path()) == before);
    CHECK(inode_of(dir.file("db.sqlite")) == inode);
  }
  CHECK(count_rows(dir.file("db.sqlite"), "t") == 4);
}
