// The store that core works with, whatever the engine: read and write units of work on a
// Connection, and the few things several nodes of one PostgreSQL database must agree on.
// Implemented by storage::Database (SQLite: storage/sqlite/) and storage::PgStore
// (PostgreSQL: storage/postgres/). Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "storage/sql.h"

namespace storage {

// What one group commit did; reported to the commit observer (for metrics).
struct CommitStats {
  std::size_t jobs = 0;                // write jobs that shared the transaction
  std::chrono::nanoseconds batch{0};   // BEGIN to the end of COMMIT (or ROLLBACK)
  std::chrono::nanoseconds commit{0};  // the COMMIT statement alone: the fsync
  bool committed = false;              // false: the whole batch failed and rolled back
};
// Called after each commit, on the committing thread: keep it to a few atomics.
using CommitObserver = std::function<void(const CommitStats&)>;

// What opening a store did to its schema.
struct MigrationOutcome {
  int from_version;
  int to_version;
};

// The database is not ours, or was written by a newer binary: refuse it untouched.
class IncompatibleDatabase : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Engine engine() const = 0;

  // Runs fn(Connection&) on a connection for reading and returns its result. Inside a write
  // on the same thread it reads in that transaction.
  template <typename Fn>
  auto read(Fn&& fn) {
    using R = decltype(fn(std::declval<Connection&>()));
    if constexpr (std::is_void_v<R>) {
      run_read([&](Connection& c) { fn(c); });
    } else {
      std::optional<R> result;
      run_read([&](Connection& c) { result.emplace(fn(c)); });
      return std::move(*result);
    }
  }

  // Runs fn(Connection&) inside a transaction and returns its result once that transaction is
  // committed. A Failure or any other exception rolls back fn's writes and propagates. A write()
  // from inside fn runs in the same transaction. fn may run more than once (PostgreSQL runs it
  // again after a conflict with a concurrent transaction), so it must set, not accumulate, what
  // it hands out.
  template <typename Fn>
  auto write(Fn&& fn) {
    using R = decltype(fn(std::declval<Connection&>()));
    if constexpr (std::is_void_v<R>) {
      run_write([&](Connection& c) { fn(c); });
    } else {
      std::optional<R> result;
      run_write([&](Connection& c) { result.emplace(fn(c)); });
      return std::move(*result);
    }
  }

  // What opening the store did to the schema.
  virtual const MigrationOutcome& migration() const = 0;

  // True when the database can be read right now.
  virtual bool ping() noexcept = 0;

  // Replaces the observer of commits (nullptr: none). Thread-safe.
  virtual void set_commit_observer(CommitObserver observer) = 0;

  // Calls fn whenever a transaction (of any node) committed announce(c, topic); on PostgreSQL
  // also after the listening connection was lost and came back (announcements may have been
  // missed). fn runs on the store's listener thread: keep it short. With SQLite nothing else
  // writes the file's data while the server runs, and fn is never called.
  virtual void on_announced(const std::string& topic, std::function<void()> fn) = 0;

  // Runs fn only if no other node runs the job `name` right now; returns whether it ran. Jobs
  // every node runs on a timer (retention, the expiry sweep, the outbox fan-out) take turns
  // this way. With SQLite one process owns the file, and fn always runs.
  virtual bool run_alone(std::string_view name, const std::function<void()>& fn) = 0;

 protected:
  virtual void run_read(const std::function<void(Connection&)>& fn) = 0;
  virtual void run_write(const std::function<void(Connection&)>& fn) = 0;
};

// Announces a change of `topic` to every node's on_announced listeners once the caller's write
// transaction commits (PostgreSQL NOTIFY; nothing with SQLite).
void announce(Connection& c, const std::string& topic);

}  // namespace storage
