#include "storage/sqlite/database.h"
#include "storage/sqlite/connection.h"

#include <SQLiteCpp/Statement.h>
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "storage/analytics.h"
#include "storage/otp.h"
#include "tests/support/temp_dir.h"

namespace {

std::uintmax_t size_of(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

}  // namespace

TEST_CASE("group commit: every caller gets its own result, and a failing job rolls back alone") {
  testing::TempDir dir;
  auto db = storage::Database::open({dir.file("db.sqlite"), storage::Durability::kNormal}, "t");
  db->write([](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_); c.exec("CREATE TABLE t (n INTEGER NOT NULL UNIQUE)"); });
  std::vector<std::thread> writers;
  std::atomic<int> failures = 0;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 50; ++i) {
        const int n = w * 1000 + i;
        const long long rowid = db->write([&](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_);
          SQLite::Statement insert(c, "INSERT INTO t(n) VALUES(?)");
          insert.bind(1, n);
          insert.exec();
          return c.getLastInsertRowid();
        });
        CHECK(rowid > 0);
        try {
          db->write([&](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_);
            c.exec("INSERT INTO t(n) VALUES(-1)");  // lands, then is rolled back with its job
            throw std::runtime_error("job fails");
          });
        } catch (const std::runtime_error&) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  CHECK(failures == 400);
  db->read([](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_);
    CHECK(c.execAndGet("SELECT count(*) FROM t").getInt() == 400);
    CHECK(c.execAndGet("SELECT count(*) FROM t WHERE n = -1").getInt() == 0);
  });
}

TEST_CASE("the WAL stays bounded under sustained writes with concurrent readers") {
  testing::TempDir dir;
  const std::string path = dir.file("db.sqlite");
  auto db = storage::Database::open({path, storage::Durability::kNormal}, "t");
  db->write([](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_); c.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)"); });

  // 96 MiB of page-sized rows: without a restart the WAL holds at least all of it.
  constexpr int kWriters = 4, kRowsEach = 6000;
  std::atomic<bool> writing = true;
  std::atomic<std::uintmax_t> largest_wal = 0;
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (writing) {
        db->read([](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_); return c.execAndGet("SELECT max(id) FROM t").getInt(); });
        const auto wal = size_of(path + "-wal");
        if (wal > largest_wal) largest_wal = wal;
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < kRowsEach; ++i) {
        db->write([](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_); c.exec("INSERT INTO t(body) VALUES(zeroblob(4000))"); });
      }
    });
  }
  for (auto& t : writers) t.join();
  writing = false;
  for (auto& t : threads) t.join();
  db->read([](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_); CHECK(c.execAndGet("SELECT count(*) FROM t").getInt() == kWriters * kRowsEach); });
  MESSAGE("largest WAL seen: " << largest_wal / (1 << 20) << " MiB");
  // Without a restart the WAL would reach 96 MiB. Idle, it peaks near 2 x 16 MiB; how much more
  // arrives while readers still pin it depends on the machine's load (51 MiB seen with the e2e
  // suite beside it on 2 cores), so the bound only proves the WAL started over.
  CHECK(largest_wal < (72u << 20));
  CHECK(size_of(path + "-wal") <= (64u << 20));
}

TEST_CASE("a batch writes its jobs' counters once and their events in order; a failing job's share is dropped") {
  testing::TempDir dir;
  auto db = storage::Database::open({dir.file("db.sqlite"), storage::Durability::kNormal}, "t");
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 40; ++i) {
        const bool fail = i % 4 == 3;
        try {
          db->write([&](storage::Connection& c) {
            const std::string id = "e" + std::to_string(w) + "-" + std::to_string(i);
            storage::events::insert(c, {0, id + "a", "otp.created", "d", "a", std::nullopt, std::nullopt, std::nullopt,
                                        "{}", "2026-03-01T00:00:00.000Z"});
            storage::events::insert(c, {0, id + "b", "otp.verified", "d", "a", std::nullopt, std::nullopt, std::nullopt,
                                        "{}", "2026-03-01T00:00:00.000Z"});
            storage::analytics::count(c, "a", "d", "2026-03-01", storage::StatColumn::kSent);
            storage::analytics::count(c, "a", "d", "2026-03-01", storage::StatColumn::kVerified);
            storage::analytics::move_active_phone(c, storage::ActiveScope::kApplication, "a", std::nullopt,
                                                  "2026-03-01T00:00:00.000Z");
            if (fail) throw std::runtime_error("job fails after its writes");
          });
          CHECK_FALSE(fail);
        } catch (const std::runtime_error&) {
          CHECK(fail);
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  db->read([](storage::Connection& c_) { SQLite::Database& c = storage::sqlite_of(c_);
    CHECK(c.execAndGet("SELECT count(*) FROM events").getInt() == 8 * 30 * 2);
    CHECK(c.execAndGet("SELECT sent || '/' || verified || '/' || failed FROM daily_stats").getString() == "240/240/0");
    CHECK(c.execAndGet("SELECT phones FROM active_phone_days").getInt() == 240);
    // Each job's two events stay adjacent and in order (seq follows the jobs' order).
    SQLite::Statement q(c, "SELECT id FROM events ORDER BY seq");
    std::string previous;
    int pairs = 0;
    while (q.executeStep()) {
      const std::string id = q.getColumn(0).getString();
      if (id.back() == 'b') {
        CHECK(previous == id.substr(0, id.size() - 1) + "a");
        ++pairs;
      }
      previous = id;
    }
    CHECK(pairs == 240);
  });
  // Outside a batch (a bare connection), the same calls write at once.
  storage::SqliteConnection bare(std::make_unique<SQLite::Database>(dir.file("db.sqlite"), SQLite::OPEN_READWRITE));
  storage::analytics::count(bare, "a", "d", "2026-03-01", storage::StatColumn::kFailed);
  CHECK(bare.query_int64("SELECT failed FROM daily_stats") == 1);
}
