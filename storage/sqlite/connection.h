// The SQLite engine's side of the SQL seam: a Connection over one SQLiteCpp connection, with
// its prepared statements cached, and SQLite's errors reported as storage::Failure.
// Not thread-safe: one thread at a time, like the connection it wraps.
#pragma once

#include <SQLiteCpp/Database.h>

#include <exception>
#include <memory>
#include <string>
#include <unordered_map>

#include "storage/sql.h"

namespace storage {

// True for SQLite result codes that mean the store cannot be used right now (I/O error, disk
// full, read-only, missing, corrupt or foreign file), as opposed to one statement's mistake.
bool is_store_failure(int sqlite_error_code);

// The Failure that an SQLite error means (busy and locked count as unavailable: another
// connection held its lock past the busy timeout).
Failure failure_of(const std::exception& error);

class SqliteConnection : public Connection {
 public:
  explicit SqliteConnection(std::unique_ptr<SQLite::Database> db);
  ~SqliteConnection() override;

  Engine engine() const override { return Engine::kSqlite; }
  Statement& cached(const std::string& sql) override;
  void exec(const std::string& sql) override;

  // The SQLite connection itself, for SQLite-only work (pragmas, backup, checkpoints).
  SQLite::Database& raw() { return *db_; }

 private:
  std::unique_ptr<SQLite::Database> db_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> statements_;
};

// The SQLite connection behind `connection`; throws Failure(kInternal) for another engine.
SQLite::Database& sqlite_of(Connection& connection);

}  // namespace storage
