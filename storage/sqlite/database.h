// The SQLite store: opens the file with our pragmas (WAL, foreign keys, busy timeout,
// durability), migrates it, and lends out connections. Thread-safe: readers come from a pool;
// writes go to one writer thread that commits the jobs of concurrent callers together (group
// commit: one fsync for many requests) and answers each caller only after the commit. WAL
// checkpoints run on their own thread, off the request path; once the WAL is long, the writer
// finishes one between two batches so the WAL can start over (see finish_checkpoint).
#pragma once

#include <SQLiteCpp/Database.h>

#include <atomic>
#include <cstdint>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "storage/sqlite/connection.h"
#include "storage/sqlite/migrations.h"
#include "storage/store.h"

namespace storage {

enum class Durability {
  kFull,    // synchronous=FULL: an answered write survives power loss
  kNormal,  // synchronous=NORMAL: survives a process crash
};

struct DatabaseOptions {
  std::string path;                        // the SQLite file; created if missing
  Durability durability = Durability::kFull;
  int busy_timeout_ms = 5000;              // how long a connection waits for another's lock
  // Tells the operator about the store's own threads: (component, kind, reason) for a failure
  // ("writer" or "checkpointer"), an empty kind when that component works again. Called from
  // those threads, never under the store's locks; may be empty.
  std::function<void(std::string_view component, std::string_view kind, std::string_view reason)> report = nullptr;
};

// The file could not be opened or used; what() is one line for an operator.
class OpenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Opens a connection configured like every other connection of this store.
std::unique_ptr<SQLite::Database> open_connection(const DatabaseOptions& options, bool create);

class Database : public Store {
 public:
  // Opens (creating if needed) and migrates. Throws OpenError or IncompatibleDatabase.
  static std::unique_ptr<Database> open(const DatabaseOptions& options, std::string_view now);

  Engine engine() const override { return Engine::kSqlite; }
  bool ping() noexcept override;
  void set_commit_observer(CommitObserver observer) override;
  bool run_alone(std::string_view name, const std::function<void()>& fn) override;
  void on_announced(const std::string&, std::function<void()>) override {}

  ~Database() override;

  const DatabaseOptions& options() const { return options_; }
  // What open() did to the schema.
  const MigrationOutcome& migration() const override { return migration_; }

 protected:
  // Read on a pooled reader connection (or, inside a write job, on the writer's).
  void run_read(const std::function<void(Connection&)>& fn) override;
  // Queued for the writer thread, which runs it inside a transaction (BEGIN IMMEDIATE, shared
  // with other callers' jobs, each in its own savepoint) and returns once that transaction is
  // committed. An exception rolls back this job alone and propagates. Jobs run one at a time,
  // in arrival order.
  void run_write(const std::function<void(Connection&)>& fn) override;

 private:
  explicit Database(DatabaseOptions options);

  struct Lease {
    explicit Lease(Database& owner);
    ~Lease();
    Database& owner;
    std::unique_ptr<SqliteConnection> connection;
  };

  struct WriteJob {
    const std::function<void(Connection&)>* run;
    std::exception_ptr error;
    bool done = false;
    // Its own, so a commit wakes exactly the callers it answers (one shared condition variable
    // woke every waiter on every commit). Notified under queue_mutex_, so the caller cannot
    // return and destroy it while it is being notified.
    std::condition_variable answered;
  };
  // Queues a job for the writer thread and waits until its transaction is committed.
  void writer_loop();
  void checkpoint_loop();
  void finish_checkpoint();
  // Failure reports of the writer thread (only it reads or writes writer_failing_).
  void report_writer(std::exception_ptr error);
  bool writer_failing_ = false;

  // Frames in the WAL after the writer's last commit (from sqlite3_wal_hook; writer thread only).
  int wal_frames_ = 0;
  std::uint64_t wal_commits_ = 0;  // commits that wrote frames (wal hook; writer thread only)
  bool checkpoint_requested_ = false;  // under queue_mutex_: the writer wants a pass now
  std::atomic<bool> checkpoint_caught_up_ = false;  // that pass is done
  static constexpr int kWalRestartFrames = 4096;  // 16 MiB of 4 KiB pages
  static constexpr long kWalSizeLimitBytes = 64L << 20;
  static constexpr int kRestartWaitMs = 50;

  DatabaseOptions options_;
  MigrationOutcome migration_{0, 0};
  std::unique_ptr<SqliteConnection> writer_;
  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::condition_variable checkpoint_wakeup_;
  std::deque<WriteJob*> queue_;
  bool stopping_ = false;
  CommitObserver commit_observer_;  // under queue_mutex_
  std::thread writer_thread_;
  std::thread checkpoint_thread_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_readers_;
};

}  // namespace storage
