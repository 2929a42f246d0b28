#include "storage/sqlite/backup.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <utility>
#include <vector>

#include "storage/sqlite/database.h"
#include "storage/key_file.h"
#include "storage/sqlite/migrations.h"

namespace storage {

namespace fs = std::filesystem;

namespace {

std::string in_quotes(const std::string& path) { return "'" + path + "'"; }

std::string errno_text(int error) { return std::strerror(error); }

// A name beside `path` that no one else uses: ".<name>.tmp-<pid>-<n>".
std::string temp_beside(const std::string& path) {
  static std::atomic<unsigned> counter = 0;
  const fs::path target(path);
  const fs::path name = "." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                        std::to_string(counter++);
  return (target.parent_path() / name).string();
}

// Removes the files it holds when it dies, unless released; for temporaries on failure paths.
class Cleanup {
 public:
  Cleanup() = default;
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;
  ~Cleanup() {
    for (const auto& path : paths_) ::unlink(path.c_str());
  }
  void add(const std::string& path) { paths_.push_back(path); }
  void release(const std::string& path) { std::erase(paths_, path); }

 private:
  std::vector<std::string> paths_;
};

void fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw BackupError("cannot open " + in_quotes(path) + " to sync it: " + errno_text(errno));
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) throw BackupError("cannot sync " + in_quotes(path) + ": " + errno_text(error));
}

std::string directory_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

bool exists(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

// Creates `to` (which must not exist) with mode 0600 holding the bytes of `from`, synced.
void copy_new_file(const std::string& from, const std::string& to) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw BackupError("cannot read " + in_quotes(from) + ": " + errno_text(errno));
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    const int error = errno;
    ::close(in);
    throw BackupError("cannot create " + in_quotes(to) + ": " + errno_text(error));
  }
  std::string failure;
  char buffer[1 << 16];
  while (failure.empty()) {
    const ssize_t n = ::read(in, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failure = "cannot read " + in_quotes(from) + ": " + errno_text(errno);
    if (n <= 0) break;
    for (ssize_t done = 0; done < n && failure.empty();) {
      const ssize_t written = ::write(out, buffer + done, static_cast<std::size_t>(n - done));
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) failure = "cannot write " + in_quotes(to) + ": " + errno_text(errno);
      if (written > 0) done += written;
    }
  }
  if (failure.empty() && ::fchmod(out, 0600) != 0) failure = "cannot chmod " + in_quotes(to) + ": " + errno_text(errno);
  if (failure.empty() && ::fsync(out) != 0) failure = "cannot sync " + in_quotes(to) + ": " + errno_text(errno);
  ::close(in);
  if (::close(out) != 0 && failure.empty()) failure = "cannot write " + in_quotes(to) + ": " + errno_text(errno);
  if (!failure.empty()) {
    ::unlink(to.c_str());
    throw BackupError(failure);
  }
}

// Gives the finished file `temp` its final name `path`, never replacing an existing file: a
// hard link fails with EEXIST atomically. File systems without hard links fall back to a
// check and a rename.
void publish_new(const std::string& temp, const std::string& path) {
  if (::link(temp.c_str(), path.c_str()) == 0) {
    ::unlink(temp.c_str());
  } else {
    const int error = errno;
    if (error == EEXIST) throw BackupError(in_quotes(path) + " already exists; refusing to overwrite it");
    if (error != EPERM && error != EOPNOTSUPP && error != EMLINK) {
      throw BackupError("cannot create " + in_quotes(path) + ": " + errno_text(error));
    }
    if (exists(path)) throw BackupError(in_quotes(path) + " already exists; refusing to overwrite it");
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      throw BackupError("cannot create " + in_quotes(path) + ": " + errno_text(errno));
    }
  }
  fsync_path(directory_of(path), /*directory=*/true);
}

// Keeps the file at `path` as well under the new name `kept` (a hard link, or a copy where
// there are none), so a later rename over `path` leaves the old content at `kept`.
void keep_as(const std::string& path, const std::string& kept) {
  if (::link(path.c_str(), kept.c_str()) == 0) return;
  const int error = errno;
  if (error == EEXIST) throw BackupError(in_quotes(kept) + " already exists");
  if (error != EPERM && error != EOPNOTSUPP && error != EMLINK) {
    throw BackupError("cannot keep " + in_quotes(path) + " as " + in_quotes(kept) + ": " + errno_text(error));
  }
  copy_new_file(path, kept);
}

void check_not_taken(const std::string& path) {
  if (exists(path)) throw BackupError(in_quotes(path) + " already exists; refusing to overwrite it");
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::equivalent(a, b, ec)) return true;
  const fs::path ca = fs::weakly_canonical(fs::absolute(a, ec), ec);
  const fs::path cb = fs::weakly_canonical(fs::absolute(b, ec), ec);
  return !ec && ca == cb;
}

int pragma_int(SQLite::Database& db, const char* pragma) {
  return db.execAndGet(std::string("PRAGMA ") + pragma).getInt();
}

// The first row of `PRAGMA integrity_check`: "ok" when the file is intact.
std::string integrity(SQLite::Database& db) { return db.execAndGet("PRAGMA integrity_check").getString(); }

// A key file's content is checked by loading it (never creating: the file exists).
void check_key_file(const std::string& path, const std::string& shown_as) {
  try {
    load_or_create_key_file(path, KeyBytes{});
  } catch (const KeyFileError& e) {
    throw BackupError("key file " + in_quotes(shown_as) + " is not usable: " + e.what());
  }
}

// Copies every page of `source` into the empty database `dest`, waiting out short locks.
void copy_pages(SQLite::Database& source, SQLite::Database& dest) {
  sqlite3_backup* backup = sqlite3_backup_init(dest.getHandle(), "main", source.getHandle(), "main");
  if (backup == nullptr) throw BackupError(std::string("cannot start the backup: ") + sqlite3_errmsg(dest.getHandle()));
  int rc = SQLITE_OK;
  for (int attempt = 0; attempt < 200; ++attempt) {
    rc = sqlite3_backup_step(backup, -1);  // -1: all pages at once, inside the read transaction
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) throw BackupError(std::string("the backup failed: ") + sqlite3_errstr(rc));
}

}  // namespace

int verify_database_file(const std::string& path, const std::string& shown_as) {
  try {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.execAndGet("PRAGMA schema_version");  // "file is not a database" surfaces here
    try {
      check_compatible(db);
    } catch (const IncompatibleDatabase& e) {
      std::string message = e.what();
      if (const auto at = message.find(path); at != std::string::npos) message.replace(at, path.size(), shown_as);
      throw BackupError(message);
    }
    const int version = pragma_int(db, "user_version");
    if (pragma_int(db, "application_id") != kApplicationId || version < 1) {
      throw BackupError(in_quotes(shown_as) + " is not a cobinar-phone database (it has no cobinar-phone schema)");
    }
    if (const std::string result = integrity(db); result != "ok") {
      throw BackupError(in_quotes(shown_as) + " fails PRAGMA integrity_check: " + result);
    }
    return version;
  } catch (const SQLite::Exception& e) {
    throw BackupError("cannot read " + in_quotes(shown_as) + " as an SQLite database: " + e.getErrorStr());
  }
}

BackupOutcome backup_database(const std::string& db_path, const std::string& out_path,
                              const std::optional<std::string>& key_file) {
  if (!exists(db_path)) throw BackupError("database " + in_quotes(db_path) + " does not exist");
  if (same_file(db_path, out_path)) throw BackupError(in_quotes(out_path) + " is the database itself; choose another --out");
  check_not_taken(out_path);
  const std::string key_out = out_path + ".key";
  if (key_file) {
    if (!exists(*key_file)) throw BackupError("key file " + in_quotes(*key_file) + " does not exist");
    check_not_taken(key_out);
    check_key_file(*key_file, *key_file);
  }

  Cleanup cleanup;
  const std::string temp = temp_beside(out_path);
  {
    // Created here so the copy is 0600 from its first byte; SQLite accepts an empty file.
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw BackupError("cannot create a file beside " + in_quotes(out_path) + ": " + errno_text(errno));
    ::close(fd);
    cleanup.add(temp);
    for (const char* suffix : {"-journal", "-wal", "-shm"}) cleanup.add(temp + suffix);
  }

  int version = 0;
  try {
    const std::unique_ptr<SQLite::Database> source = open_connection({db_path}, /*create=*/false);
    try {
      check_compatible(*source);
    } catch (const IncompatibleDatabase& e) {
      throw BackupError(e.what());
    }
    // One read transaction: the copy and the version read here are the same snapshot.
    source->exec("BEGIN");
    version = pragma_int(*source, "user_version");
    if (pragma_int(*source, "application_id") != kApplicationId || version < 1) {
      throw BackupError("database " + in_quotes(db_path) + " has no cobinar-phone schema yet; nothing to back up");
    }
    {
      SQLite::Database dest(temp, SQLite::OPEN_READWRITE);
      copy_pages(*source, dest);
      // A self-contained file: no WAL needed to read it.
      dest.exec("PRAGMA journal_mode = DELETE");
      if (const std::string result = integrity(dest); result != "ok") {
        throw BackupError("the copy fails PRAGMA integrity_check: " + result);
      }
      if (const int copied = pragma_int(dest, "user_version"); copied != version) {
        throw BackupError("the copy has schema version " + std::to_string(copied) + ", the database " +
                          std::to_string(version));
      }
    }
    source->exec("COMMIT");
  } catch (const SQLite::Exception& e) {
    throw BackupError("cannot back up " + in_quotes(db_path) + ": " + e.getErrorStr());
  } catch (const OpenError& e) {
    throw BackupError(e.what());
  }
  fsync_path(temp, /*directory=*/false);

  BackupOutcome outcome;
  outcome.path = out_path;
  outcome.schema_version = version;
  outcome.bytes = fs::file_size(temp);

  std::string key_temp;
  if (key_file) {
    key_temp = temp_beside(key_out);
    copy_new_file(*key_file, key_temp);
    cleanup.add(key_temp);
  }
  publish_new(temp, out_path);
  cleanup.release(temp);
  if (key_file) {
    try {
      publish_new(key_temp, key_out);
    } catch (const BackupError& e) {
      throw BackupError(std::string(e.what()) + " (the database copy " + in_quotes(out_path) + " was written)");
    }
    cleanup.release(key_temp);
    outcome.key_path = key_out;
  }
  return outcome;
}

RestoreOutcome restore_database(const std::string& from, const std::string& given_db_path,
                                const std::optional<std::string>& key_file, const std::string& stamp) {
  // A symlinked database is replaced where it lives; the link stays.
  std::error_code ec;
  std::string db_path = given_db_path;
  if (fs::is_symlink(fs::symlink_status(db_path, ec))) {
    if (const fs::path target = fs::weakly_canonical(db_path, ec); !ec) db_path = target.string();
  }
  struct stat info {};
  if (::stat(from.c_str(), &info) != 0) throw BackupError("backup " + in_quotes(from) + " does not exist");
  if (!S_ISREG(info.st_mode)) throw BackupError("backup " + in_quotes(from) + " is not a regular file");
  if (same_file(from, db_path)) throw BackupError(in_quotes(from) + " is the database itself; nothing to restore");
  // A live database's last commits may sit in its WAL, which a plain copy would lose.
  struct stat wal {};
  if (::stat((from + "-wal").c_str(), &wal) == 0 && wal.st_size > 0) {
    throw BackupError(in_quotes(from) + " has a write-ahead log beside it (a live database?); make a copy with `backup`");
  }
  const std::string key_from = from + ".key";
  if (key_file && !exists(key_from)) throw BackupError("key file " + in_quotes(key_from) + " does not exist");

  Cleanup cleanup;
  const std::string temp = temp_beside(db_path);
  for (const char* suffix : {"-journal", "-wal", "-shm"}) cleanup.add(temp + suffix);
  copy_new_file(from, temp);
  cleanup.add(temp);

  RestoreOutcome outcome;
  outcome.db_path = given_db_path;
  outcome.schema_version = verify_database_file(temp, from);
  fsync_path(temp, /*directory=*/false);
  outcome.bytes = fs::file_size(temp);

  std::string key_temp;
  if (key_file) {
    key_temp = temp_beside(*key_file);
    copy_new_file(key_from, key_temp);
    cleanup.add(key_temp);
    check_key_file(key_temp, key_from);
  }

  const std::string kept = db_path + ".before-restore-" + stamp;
  if (exists(db_path)) {
    // Fold the WAL into the file first, so the kept copy is one file (best effort: a damaged
    // database is kept as it is, its WAL beside it).
    try {
      SQLite::Database old(db_path, SQLite::OPEN_READWRITE);
      old.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const SQLite::Exception&) {
    }
    check_not_taken(kept);
    keep_as(db_path, kept);
    outcome.previous = kept;
    if (struct stat old_wal {}; ::stat((db_path + "-wal").c_str(), &old_wal) == 0 && old_wal.st_size > 0) {
      if (::rename((db_path + "-wal").c_str(), (kept + "-wal").c_str()) != 0) {
        throw BackupError("cannot move " + in_quotes(db_path + "-wal") + " aside: " + errno_text(errno));
      }
    }
  }
  // Stale sidecars would be replayed onto (or describe) the old file.
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    const std::string sidecar = db_path + suffix;
    if (::unlink(sidecar.c_str()) != 0 && errno != ENOENT) {
      throw BackupError("cannot remove " + in_quotes(sidecar) + ": " + errno_text(errno));
    }
  }
  if (::rename(temp.c_str(), db_path.c_str()) != 0) {
    throw BackupError("cannot replace " + in_quotes(db_path) + ": " + errno_text(errno));
  }
  cleanup.release(temp);
  fsync_path(directory_of(db_path), /*directory=*/true);

  if (key_file) {
    const std::string kept_key = *key_file + ".before-restore-" + stamp;
    try {
      if (exists(*key_file)) {
        check_not_taken(kept_key);
        keep_as(*key_file, kept_key);
        outcome.previous_key = kept_key;
      }
      if (::rename(key_temp.c_str(), key_file->c_str()) != 0) {
        throw BackupError("cannot replace " + in_quotes(*key_file) + ": " + errno_text(errno));
      }
      cleanup.release(key_temp);
      fsync_path(directory_of(*key_file), /*directory=*/true);
    } catch (const BackupError& e) {
      throw BackupError(std::string(e.what()) + " (the database " + in_quotes(db_path) + " was restored)");
    }
    outcome.key_path = *key_file;
  }
  return outcome;
}

}  // namespace storage
