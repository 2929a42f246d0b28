// The PostgreSQL store: a pool of libpq connections per node, a transaction per write on the
// caller's own thread (PostgreSQL's concurrency plays the SQLite writer's role; commits are
// synchronous), conflicts with other transactions and nodes retried, migrations under an
// advisory lock, and jobs that must run on one node at a time under advisory locks.
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <thread>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "storage/postgres/connection.h"
#include "storage/store.h"

namespace storage {

struct PgStoreOptions {
  std::string url;     // postgres:// or postgresql:// (libpq's URI form)
  int pool_size = 16;  // --db-pool-size: connections this node keeps at most
  // As DatabaseOptions::report: ("writer", kind, reason) when writes fail, ("writer", "", "")
  // once one succeeds again. May be empty.
  std::function<void(std::string_view component, std::string_view kind, std::string_view reason)> report = nullptr;
};

// The schema version a PostgreSQL database is created at, and the newest this binary knows.
int postgres_schema_version();

class PgStore : public Store {
 public:
  // Connects, migrates (creating the schema in an empty database). Throws Failure
  // (kUnavailable: cannot connect) or IncompatibleDatabase.
  static std::unique_ptr<PgStore> open(const PgStoreOptions& options, std::string_view now);
  ~PgStore() override;

  Engine engine() const override { return Engine::kPostgres; }
  const MigrationOutcome& migration() const override { return migration_; }
  bool ping() noexcept override;
  void set_commit_observer(CommitObserver observer) override;
  bool run_alone(std::string_view name, const std::function<void()>& fn) override;
  void on_announced(const std::string& topic, std::function<void()> fn) override;

  const PgStoreOptions& options() const { return options_; }

 protected:
  void run_read(const std::function<void(Connection&)>& fn) override;
  void run_write(const std::function<void(Connection&)>& fn) override;

 private:
  explicit PgStore(PgStoreOptions options);

  class Lease {
   public:
    explicit Lease(PgStore& owner);
    ~Lease();
    PgConnection& operator*() { return *connection_; }
    PgConnection* operator->() { return connection_.get(); }

   private:
    PgStore& owner_;
    std::unique_ptr<PgConnection> connection_;
  };
  void report_writer(const Failure* failure);

  PgStoreOptions options_;
  MigrationOutcome migration_{0, 0};
  std::mutex pool_mutex_;
  std::condition_variable pool_returned_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  int open_connections_ = 0;  // under pool_mutex_: idle plus leased
  std::mutex observer_mutex_;
  CommitObserver commit_observer_;
  // The listener thread: LISTEN on a connection of its own, calls the on_announced callbacks.
  void listen_loop();
  std::mutex listeners_mutex_;
  std::multimap<std::string, std::function<void()>> listeners_;  // under listeners_mutex_
  std::atomic<bool> stopping_{false};
  std::thread listener_;  // started by the first on_announced
  std::mutex report_mutex_;
  bool writer_failing_ = false;  // under report_mutex_
};

}  // namespace storage
