#include "storage/sqlite/database.h"

#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>

#include <chrono>
#include <utility>
#include <vector>

#include "storage/batch_writes.h"

namespace storage {

std::unique_ptr<SQLite::Database> open_connection(const DatabaseOptions& options, bool create) {
  // Memory statistics take a process-wide mutex on every SQLite allocation, which all request
  // threads then contend for; we never read them. Must precede SQLite's initialisation.
  static std::once_flag configured;
  std::call_once(configured, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  const int flags = SQLite::OPEN_READWRITE | SQLite::OPEN_FULLMUTEX | (create ? SQLite::OPEN_CREATE : 0);
  std::unique_ptr<SQLite::Database> db;
  try {
    db = std::make_unique<SQLite::Database>(options.path, flags, options.busy_timeout_ms);
    // Touch the file header now, so "not a database" surfaces here and not mid-request.
    db->execAndGet("PRAGMA schema_version");
  } catch (const SQLite::Exception& e) {
    throw OpenError("cannot open database '" + options.path + "': " + e.getErrorStr());
  }
  return db;
}

namespace {

void apply_pragmas(SQLite::Database& db, Durability durability) {
  const std::string mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
  if (mode != "wal") throw OpenError("cannot switch '" + db.getFilename() + "' to WAL mode");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec(durability == Durability::kFull ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
  // Each job of a group commit runs in a savepoint, whose sub-journal otherwise spills past
  // 64 KiB into a temporary file that is created, written page by page and unlinked on every
  // commit (measured: ~25 extra pwrite calls per request).
  db.exec("PRAGMA temp_store = MEMORY");
}

}  // namespace

Database::Database(DatabaseOptions options) : options_(std::move(options)) {}

std::unique_ptr<Database> Database::open(const DatabaseOptions& options, std::string_view now) {
  std::unique_ptr<Database> database(new Database(options));
  struct stat before {};
  const bool created = ::stat(options.path.c_str(), &before) != 0 && errno == ENOENT;
  database->writer_ = std::make_unique<SqliteConnection>(open_connection(options, /*create=*/true));
  // The database holds hashes, sealed secrets and phone numbers: only its owner reads it
  // (SQLite gives the -wal and -shm files the same mode). An existing file keeps its mode.
  if (created) ::chmod(options.path.c_str(), 0600);
  try {
    // Refuse an incompatible file before changing anything in it (WAL switch included).
    SQLite::Database& writer = database->writer_->raw();
    check_compatible(writer);
    apply_pragmas(writer, options.durability);
    database->migration_ = migrate(writer, now);
    // The commit that crosses the autocheckpoint threshold would run the checkpoint inline
    // (18-32 ms measured); the checkpoint thread does it instead.
    writer.exec("PRAGMA wal_autocheckpoint = 0");
    // A WAL that grew during a burst is cut back when it restarts.
    writer.exec("PRAGMA journal_size_limit = " + std::to_string(kWalSizeLimitBytes));
    sqlite3_wal_hook(
        writer.getHandle(),
        [](void* self, sqlite3*, const char*, int frames) {
          static_cast<Database*>(self)->wal_frames_ = frames;
          ++static_cast<Database*>(self)->wal_commits_;
          return SQLITE_OK;
        },
        database.get());
  } catch (const SQLite::Exception& e) {
    throw OpenError("cannot use database '" + options.path + "': " + e.getErrorStr());
  }
  database->writer_thread_ = std::thread([db = database.get()] { db->writer_loop(); });
  database->checkpoint_thread_ = std::thread([db = database.get()] { db->checkpoint_loop(); });
  return database;
}

Database::~Database() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_ready_.notify_all();
  checkpoint_wakeup_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
  try {
    if (writer_) writer_->raw().exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } catch (...) {
    // Best effort: the next open recovers from the WAL anyway.
  }
}

namespace {

// Errors that mean the store cannot write at all (rather than one job's own mistake).
bool is_store_failure(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return failure_of(e).kind() == FailureKind::kUnavailable;
  } catch (...) {
    return false;
  }
}

// Set on the writer thread, so a write() from inside a job joins the running transaction.
thread_local bool on_writer_thread = false;
}  // namespace

void Database::run_read(const std::function<void(Connection&)>& fn) {
  if (on_writer_thread) {
    fn(*writer_);
    return;
  }
  Lease lease(*this);
  fn(*lease.connection);
}

bool Database::run_alone(std::string_view, const std::function<void()>& fn) {
  fn();
  return true;
}

void Database::run_write(const std::function<void(Connection&)>& run) {
  if (on_writer_thread) {
    run(*writer_);
    return;
  }
  WriteJob job{&run, nullptr, false, {}};
  std::unique_lock lock(queue_mutex_);
  queue_.push_back(&job);
  queue_ready_.notify_one();
  job.answered.wait(lock, [&] { return job.done; });
  if (job.error) std::rethrow_exception(job.error);
}

void Database::writer_loop() {
  on_writer_thread = true;
  auto exec = [this](const char* sql) {
    Prepared statement(*writer_, sql);
    statement->exec();
  };
  constexpr std::size_t kMaxBatch = 256;
  while (true) {
    std::vector<WriteJob*> batch;
    {
      std::unique_lock lock(queue_mutex_);
      queue_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every queued job is done
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    // Everyone who arrived while the previous batch was committing shares this transaction.
    std::exception_ptr batch_error;
    const std::uint64_t commits_before = wal_commits_;
    CommitStats stats;
    stats.jobs = batch.size();
    const auto began = std::chrono::steady_clock::now();
    try {
      exec("BEGIN IMMEDIATE");
      BatchWrites shared;  // counters and events of the batch's jobs, written once below
      for (WriteJob* job : batch) {
        exec("SAVEPOINT job");
        BatchWrites own;
        try {
          {
            PendingWritesScope scope(&own);
            (*job->run)(*writer_);
          }
          exec("RELEASE job");
          shared.absorb(std::move(own));
        } catch (...) {
          job->error = std::current_exception();
          exec("ROLLBACK TO job");
          exec("RELEASE job");
        }
      }
      shared.flush(*writer_);
      const auto committing = std::chrono::steady_clock::now();
      exec("COMMIT");
      stats.commit = std::chrono::steady_clock::now() - committing;
      stats.committed = true;
    } catch (...) {
      batch_error = std::current_exception();
      writer_->raw().tryExec("ROLLBACK");
    }
    std::exception_ptr store_error = batch_error && is_store_failure(batch_error) ? batch_error : nullptr;
    for (const WriteJob* job : batch) {
      if (!store_error && job->error && is_store_failure(job->error)) store_error = job->error;
    }
    stats.batch = std::chrono::steady_clock::now() - began;
    // Reported before the callers are answered, so health already says so when they see the
    // error. Only a commit that wrote to the WAL proves the store can write again (an empty one
    // touches no file).
    if (store_error || (writer_failing_ && wal_commits_ != commits_before)) report_writer(store_error);
    {
      std::lock_guard lock(queue_mutex_);
      for (WriteJob* job : batch) {
        if (batch_error && !job->error) job->error = batch_error;
        job->done = true;
        job->answered.notify_one();
      }
      if (commit_observer_) commit_observer_(stats);
    }
    if (wal_frames_ >= kWalRestartFrames) {
      // Finish right after a background pass, when little is left to copy and sync (with
      // synchronous=NORMAL the first sync of a long WAL stalled the writer 10-20 ms).
      if (checkpoint_caught_up_.exchange(false) || wal_frames_ >= 2 * kWalRestartFrames) {
        finish_checkpoint();
      } else {
        std::lock_guard lock(queue_mutex_);
        if (!checkpoint_requested_) {
          checkpoint_requested_ = true;
          checkpoint_wakeup_.notify_one();
        }
      }
    }
  }
}

void Database::report_writer(std::exception_ptr error) {
  writer_failing_ = error != nullptr;
  if (!options_.report) return;
  if (!error) {
    options_.report("writer", "", "");
    return;
  }
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    options_.report("writer", "commit_failed", e.what());
  } catch (...) {
    options_.report("writer", "commit_failed", "unknown error");
  }
}

// The checkpoint thread copies most of the WAL in the background, but under steady load it
// never catches up with the last commit, and SQLite only starts the WAL over when a write
// begins after a complete checkpoint while no reader still uses the WAL: the file grew by
// ~125 MB/s in the flow benchmark. So once the WAL is long, the writer (alone between
// batches, so nothing new is appended) checkpoints what is left; the next BEGIN then restarts
// the WAL from its start, which also turns appends (block allocation, a size change per fsync)
// into overwrites of cached pages. Readers that always overlap can still pin the WAL; at twice
// the length the writer waits for them (RESTART), at most kRestartWaitMs, and retries later.
void Database::finish_checkpoint() {
  sqlite3* handle = writer_->raw().getHandle();
  const bool insist = wal_frames_ >= 2 * kWalRestartFrames;
  if (insist) sqlite3_busy_timeout(handle, kRestartWaitMs);
  int wal_frames = 0, copied = 0;
  const int rc = sqlite3_wal_checkpoint_v2(handle, nullptr, insist ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE,
                                           &wal_frames, &copied);
  if (insist) sqlite3_busy_timeout(handle, options_.busy_timeout_ms);
  if (rc == SQLITE_OK && copied == wal_frames) wal_frames_ = 0;
}

void Database::checkpoint_loop() {
  std::unique_ptr<SQLite::Database> connection;
  bool failing = false;
  auto report = [&](std::string_view kind, const std::string& reason) {
    failing = !kind.empty();
    if (options_.report) options_.report("checkpointer", kind, reason);
  };
  std::unique_lock lock(queue_mutex_);
  while (!stopping_) {
    checkpoint_wakeup_.wait_for(lock, std::chrono::milliseconds(250), [&] { return stopping_ || checkpoint_requested_; });
    if (stopping_) break;
    const bool requested = std::exchange(checkpoint_requested_, false);
    lock.unlock();
    if (!connection) {
      // Tried again every pass: the writer still checkpoints a long WAL itself meanwhile.
      try {
        connection = open_connection(options_, /*create=*/false);
      } catch (const std::exception& e) {
        report("open_failed", e.what());
      }
    }
    if (connection) {
      // PASSIVE never blocks the writer or readers: it copies what it can and leaves the rest
      // for the next round (or for the writer's finish_checkpoint, when it asked for this pass).
      const int rc = sqlite3_wal_checkpoint_v2(connection->getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                               nullptr);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
        report("checkpoint_failed", std::string(sqlite3_errstr(rc)) + ": " + sqlite3_errmsg(connection->getHandle()));
      } else if (failing) {
        report("", "");
      }
    }
    if (requested) checkpoint_caught_up_ = true;
    lock.lock();
  }
}

void Database::set_commit_observer(CommitObserver observer) {
  std::lock_guard lock(queue_mutex_);
  commit_observer_ = std::move(observer);
}

bool Database::ping() noexcept {
  try {
    return read([](Connection& db) { return db.query_int64("SELECT max(version) FROM schema_migrations") > 0; });
  } catch (...) {
    return false;
  }
}

Database::Lease::Lease(Database& db) : owner(db) {
  {
    std::lock_guard lock(owner.pool_mutex_);
    if (!owner.idle_readers_.empty()) {
      connection = std::move(owner.idle_readers_.back());
      owner.idle_readers_.pop_back();
    }
  }
  if (!connection) {
    auto opened = open_connection(owner.options_, /*create=*/false);
    opened->exec("PRAGMA foreign_keys = ON");
    opened->exec("PRAGMA temp_store = MEMORY");
    connection = std::make_unique<SqliteConnection>(std::move(opened));
  }
}

Database::Lease::~Lease() {
  std::lock_guard lock(owner.pool_mutex_);
  owner.idle_readers_.push_back(std::move(connection));
}

}  // namespace storage
