#include "storage/postgres/store.h"

#include <libpq-fe.h>

#include <sys/select.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "embedded/embedded.h"

namespace storage {

namespace {

// The transaction a write job runs in on this thread, so nested write() and read() join it.
thread_local const PgStore* tx_store = nullptr;
thread_local PgConnection* tx_connection = nullptr;

struct TxScope {
  TxScope(const PgStore* store, PgConnection* connection) {
    tx_store = store;
    tx_connection = connection;
  }
  ~TxScope() {
    tx_store = nullptr;
    tx_connection = nullptr;
  }
};

constexpr int kMaxAttempts = 8;
constexpr auto kPoolWait = std::chrono::seconds(10);

void rollback_quietly(PgConnection& connection) {
  PQclear(PQexec(connection.raw(), "ROLLBACK"));
}

// COMMIT of a transaction that an error already ended answers "ROLLBACK", not an error.
void commit(PgConnection& connection) {
  PGresult* result = PQexec(connection.raw(), "COMMIT");
  const bool failed = PQresultStatus(result) != PGRES_COMMAND_OK;
  const std::string status = PQcmdStatus(result);
  PQclear(result);
  if (failed) {
    const bool broken = !connection.healthy();
    throw Failure(broken ? FailureKind::kUnavailable : FailureKind::kConflict,
                  std::string("PostgreSQL: COMMIT failed: ") + PQerrorMessage(connection.raw()));
  }
  if (status != "COMMIT") throw Failure(FailureKind::kInternal, "PostgreSQL: the transaction was rolled back");
}

bool has_table(PgConnection& c, const char* name) {
  Prepared q(c, "SELECT to_regclass(?) IS NOT NULL");
  q->bind(1, name);
  return q->executeStep() && q->getColumn(0).getInt64() == 1;
}

}  // namespace

// schema.sql is version 9 (the SQLite history up to migration 9, in one file); every later
// change is a numbered migration here, beside SQLite's of the same number.
constexpr int kPostgresBaseVersion = 9;
struct PgMigration {
  int version;
  const char* name;
  std::string_view sql;
};
const std::vector<PgMigration>& postgres_migrations() {
  static const std::vector<PgMigration> list = {
      {10, "phone_numbers_and_policy", embedded::kPostgresMigration0010},
      {11, "idempotency_and_receipts", embedded::kPostgresMigration0011},
      {12, "abuse_controls", embedded::kPostgresMigration0012},
  };
  return list;
}

int postgres_schema_version() { return postgres_migrations().empty() ? kPostgresBaseVersion : postgres_migrations().back().version; }

PgStore::PgStore(PgStoreOptions options) : options_(std::move(options)) {
  if (options_.pool_size < 2) options_.pool_size = 2;
}

PgStore::~PgStore() {
  stopping_ = true;
  if (listener_.joinable()) listener_.join();
}

void PgStore::on_announced(const std::string& topic, std::function<void()> fn) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.emplace(topic, std::move(fn));
  if (!listener_.joinable()) listener_ = std::thread([this] { listen_loop(); });
}

void PgStore::listen_loop() {
  auto call = [&](const std::string* topic) {
    std::lock_guard lock(listeners_mutex_);
    for (const auto& [name, fn] : listeners_) {
      if (topic == nullptr || name == *topic) fn();
    }
  };
  std::unique_ptr<PgConnection> connection;
  while (!stopping_) {
    if (!connection || !connection->healthy()) {
      try {
        connection = std::make_unique<PgConnection>(options_.url);
        connection->exec("LISTEN cobinar_phone");
        call(nullptr);  // whatever was announced while nobody listened
      } catch (const std::exception&) {
        connection.reset();
        for (int i = 0; i < 10 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
    }
    PGconn* conn = connection->raw();
    const int socket = PQsocket(conn);
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(socket, &readable);
    timeval wait{0, 200'000};  // how soon a stop is noticed
    if (::select(socket + 1, &readable, nullptr, nullptr, &wait) < 0) continue;
    if (PQconsumeInput(conn) == 0) {
      connection.reset();
      continue;
    }
    while (PGnotify* notification = PQnotifies(conn)) {
      const std::string topic = notification->extra != nullptr ? notification->extra : "";
      PQfreemem(notification);
      call(&topic);
    }
  }
}

std::unique_ptr<PgStore> PgStore::open(const PgStoreOptions& options, std::string_view now) {
  std::unique_ptr<PgStore> store(new PgStore(options));
  Lease lease(*store);
  PgConnection& c = *lease;
  c.exec("BEGIN");
  try {
    // Every node migrates at start; one at a time, each seeing what the previous one did.
    c.exec("SELECT pg_advisory_xact_lock(hashtextextended('cobinar-phone:migrate', 0))");
    int from = 0;
    if (has_table(c, "schema_migrations")) {
      from = static_cast<int>(c.query_int64("SELECT coalesce(max(version), 0) FROM schema_migrations"));
    } else if (c.query_int64("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()") > 0) {
      throw IncompatibleDatabase("the PostgreSQL database at " + redact_url(options.url) +
                                 " is not a cobinar-phone database (its schema holds other tables); refusing to use it");
    }
    if (from > postgres_schema_version()) {
      throw IncompatibleDatabase("the PostgreSQL database at " + redact_url(options.url) + " has schema version " +
                                 std::to_string(from) + ", written by a newer cobinar-phone; this binary knows up to version " +
                                 std::to_string(postgres_schema_version()) + ". Upgrade cobinar-phone.");
    }
    const auto record = [&](int version, const char* name) {
      Prepared statement(c, "INSERT INTO schema_migrations(version, name, applied_at) VALUES(?, ?, ?)");
      statement->bind(1, version);
      statement->bind(2, name);
      statement->bind(3, std::string(now));
      statement->exec();
    };
    if (from == 0) {
      c.exec(std::string(embedded::kPostgresSchemaSql));
      record(kPostgresBaseVersion, "postgres_schema");
    }
    for (const PgMigration& migration : postgres_migrations()) {
      if (migration.version <= std::max(from, kPostgresBaseVersion)) continue;
      c.exec(std::string(migration.sql));
      record(migration.version, migration.name);
    }
    commit(c);
    store->migration_ = {from, postgres_schema_version()};
  } catch (...) {
    rollback_quietly(c);
    throw;
  }
  return store;
}

PgStore::Lease::Lease(PgStore& owner) : owner_(owner) {
  std::unique_lock lock(owner_.pool_mutex_);
  const bool free = owner_.pool_returned_.wait_for(lock, kPoolWait, [&] {
    return !owner_.idle_.empty() || owner_.open_connections_ < owner_.options_.pool_size;
  });
  if (!free) throw Failure(FailureKind::kUnavailable, "no PostgreSQL connection came free in time (--db-pool-size)");
  if (!owner_.idle_.empty()) {
    connection_ = std::move(owner_.idle_.back());
    owner_.idle_.pop_back();
    return;
  }
  ++owner_.open_connections_;
  lock.unlock();
  try {
    connection_ = std::make_unique<PgConnection>(owner_.options_.url);
  } catch (...) {
    lock.lock();
    --owner_.open_connections_;
    owner_.pool_returned_.notify_one();
    throw;
  }
}

PgStore::Lease::~Lease() {
  std::lock_guard lock(owner_.pool_mutex_);
  if (connection_ && connection_->healthy()) {
    owner_.idle_.push_back(std::move(connection_));
  } else {
    connection_.reset();  // broken: the next lease opens a new one
    --owner_.open_connections_;
  }
  owner_.pool_returned_.notify_one();
}

void PgStore::run_read(const std::function<void(Connection&)>& fn) {
  if (tx_store == this) {
    fn(*tx_connection);
    return;
  }
  Lease lease(*this);
  fn(*lease);
}

void PgStore::run_write(const std::function<void(Connection&)>& fn) {
  if (tx_store == this) {
    fn(*tx_connection);
    return;
  }
  thread_local std::minstd_rand jitter(std::random_device{}());
  for (int attempt = 1;; ++attempt) {
    Lease lease(*this);
    const auto began = std::chrono::steady_clock::now();
    try {
      lease->exec("BEGIN");
      {
        TxScope scope(this, &*lease);
        fn(*lease);
      }
      const auto committing = std::chrono::steady_clock::now();
      commit(*lease);
      CommitStats stats;
      stats.jobs = 1;
      stats.committed = true;
      stats.commit = std::chrono::steady_clock::now() - committing;
      stats.batch = std::chrono::steady_clock::now() - began;
      {
        std::lock_guard lock(observer_mutex_);
        if (commit_observer_) commit_observer_(stats);
      }
      report_writer(nullptr);
      return;
    } catch (const Failure& failure) {
      rollback_quietly(*lease);
      // Another transaction (on this node or another) won a race: run the job again on what
      // it committed. A duplicate key is such a race too (two inserts of one new row).
      const bool retry = failure.kind() == FailureKind::kConflict || failure.kind() == FailureKind::kDuplicate;
      if (retry && attempt < kMaxAttempts) {
        std::this_thread::sleep_for(std::chrono::microseconds(200 * attempt + jitter() % 1000));
        continue;
      }
      if (failure.kind() == FailureKind::kUnavailable) report_writer(&failure);
      throw;
    } catch (...) {
      rollback_quietly(*lease);
      throw;
    }
  }
}

void PgStore::report_writer(const Failure* failure) {
  std::lock_guard lock(report_mutex_);
  if (failure == nullptr && !writer_failing_) return;
  writer_failing_ = failure != nullptr;
  if (!options_.report) return;
  if (failure == nullptr) {
    options_.report("writer", "", "");
  } else {
    options_.report("writer", "commit_failed", failure->what());
  }
}

bool PgStore::run_alone(std::string_view name, const std::function<void()>& fn) {
  Lease lease(*this);
  const std::string key = "cobinar-phone:" + std::string(name);
  {
    Prepared lock(*lease, "SELECT pg_try_advisory_lock(hashtextextended(?, 0))");
    lock->bind(1, key);
    if (!lock->executeStep() || lock->getColumn(0).getInt64() != 1) return false;
  }
  struct Unlock {
    PgConnection& c;
    const std::string& key;
    ~Unlock() {
      try {
        Prepared unlock(c, "SELECT pg_advisory_unlock(hashtextextended(?, 0))");
        unlock->bind(1, key);
        unlock->executeStep();
      } catch (...) {
        // A broken connection released its session locks with it.
      }
    }
  } unlock{*lease, key};
  fn();
  return true;
}

bool PgStore::ping() noexcept {
  try {
    return read([](Connection& c) { return c.query_int64("SELECT max(version) FROM schema_migrations") > 0; });
  } catch (...) {
    return false;
  }
}

void PgStore::set_commit_observer(CommitObserver observer) {
  std::lock_guard lock(observer_mutex_);
  commit_observer_ = std::move(observer);
}

}  // namespace storage
