// The SQLite store: opens the file with our pragmas (WAL, foreign keys, busy timeout,
// durability), migrates it, and lends out connections. Thread-safe: readers come from a pool,
// writes are serialised on one connection inside BEGIN IMMEDIATE transactions.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "storage/migrations.h"

namespace storage {

enum class Durability {
  kFull,    // synchronous=FULL: an answered write survives power loss
  kNormal,  // synchronous=NORMAL: survives a process crash
};

struct DatabaseOptions {
  std::string path;                        // the SQLite file; created if missing
  Durability durability = Durability::kFull;
  int busy_timeout_ms = 5000;              // how long a connection waits for another's lock
};

// The file could not be opened or used; what() is one line for an operator.
class OpenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Opens a connection configured like every other connection of this store.
std::unique_ptr<SQLite::Database> open_connection(const DatabaseOptions& options, bool create);

class Database {
 public:
  // Opens (creating if needed) and migrates. Throws OpenError or IncompatibleDatabase.
  static std::unique_ptr<Database> open(const DatabaseOptions& options, std::string_view now);

  // Runs fn(SQLite::Database&) on a pooled read connection and returns its result.
  template <typename Fn>
  auto read(Fn&& fn) {
    Lease lease(*this);
    return fn(*lease.connection);
  }

  // Runs fn(SQLite::Database&) inside BEGIN IMMEDIATE ... COMMIT on the writer connection; an
  // exception rolls back and propagates.
  template <typename Fn>
  auto write(Fn&& fn) {
    std::lock_guard lock(writer_mutex_);
    SQLite::Transaction transaction(*writer_, SQLite::TransactionBehavior::IMMEDIATE);
    if constexpr (std::is_void_v<decltype(fn(*writer_))>) {
      fn(*writer_);
      transaction.commit();
    } else {
      auto result = fn(*writer_);
      transaction.commit();
      return result;
    }
  }

  // True when the database can be read right now.
  bool ping() noexcept;

  const DatabaseOptions& options() const { return options_; }
  // What open() did to the schema.
  const MigrationOutcome& migration() const { return migration_; }

 private:
  explicit Database(DatabaseOptions options);

  struct Lease {
    explicit Lease(Database& owner);
    ~Lease();
    Database& owner;
    std::unique_ptr<SQLite::Database> connection;
  };

  DatabaseOptions options_;
  MigrationOutcome migration_{0, 0};
  std::mutex writer_mutex_;
  std::unique_ptr<SQLite::Database> writer_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<SQLite::Database>> idle_readers_;
};

}  // namespace storage
