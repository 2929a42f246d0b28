// One server per database: `serve` holds an exclusive flock(2) on `<db>.lock`, beside the
// database's canonical path (symlinks, `.`/`..` and relative spellings all reach the same lock),
// for as long as it runs. The CLI commands never take it: they share the database through WAL.
//
// The lock file holds the owner's pid for the operator; it is never deleted (deleting it would
// let two servers lock two different inodes), and one left behind by a stopped or killed server
// is harmless: the kernel drops the flock when its last descriptor closes. Not covered: a
// second hard link to the database file, and network file systems without working flock.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace storage {

class LockError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class DatabaseLock {
 public:
  // Takes the lock without waiting; throws LockError with a one-line reason naming the
  // database (and the holder's pid, when the lock file says) if another process holds it or
  // the lock file cannot be opened.
  static DatabaseLock acquire(const std::string& db_path);

  DatabaseLock(DatabaseLock&& other) noexcept;
  DatabaseLock& operator=(DatabaseLock&& other) noexcept;
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;
  ~DatabaseLock();  // closes the descriptor, which releases the lock

  const std::string& path() const { return path_; }

 private:
  DatabaseLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// `<canonical db path>.lock`: symlinks (a dangling final one included) are followed, the
// rest is made absolute and normalised.
std::string lock_file_path(const std::string& db_path);

}  // namespace storage
