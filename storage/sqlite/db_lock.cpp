#include "storage/sqlite/db_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace storage {

namespace fs = std::filesystem;

namespace {

// The pid in the lock file, or "" when it is empty, partial or not a pid.
std::string read_pid(int fd) {
  char buffer[32] = {};
  const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
  if (n <= 0) return "";
  std::string text(buffer, static_cast<std::size_t>(n));
  if (const auto newline = text.find('\n'); newline != std::string::npos) text.resize(newline);
  if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != std::string::npos || text == "0") {
    return "";
  }
  return text;
}

void write_pid(int fd) {
  // For the operator only: a failure here does not weaken the lock, so it is not an error.
  const std::string text = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] const ssize_t written = ::pwrite(fd, text.data(), text.size(), 0);
  }
}

}  // namespace

std::string lock_file_path(const std::string& db_path) {
  std::error_code ec;
  fs::path path = fs::absolute(fs::path(db_path), ec);
  if (ec) path = fs::path(db_path);
  // weakly_canonical resolves only the part that exists, so follow a final symlink whose target
  // does not exist yet (SQLite creates the target) by hand.
  for (int hops = 0; hops < 40; ++hops) {
    if (!fs::is_symlink(fs::symlink_status(path, ec))) break;
    const fs::path target = fs::read_symlink(path, ec);
    if (ec) break;
    path = target.is_absolute() ? target : path.parent_path() / target;
  }
  fs::path canonical = fs::weakly_canonical(path, ec);
  if (ec) canonical = path.lexically_normal();
  return canonical.string() + ".lock";
}

DatabaseLock DatabaseLock::acquire(const std::string& db_path) {
  std::string path = lock_file_path(db_path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw LockError("cannot open database lock file '" + path + "': " + std::strerror(errno));
  }
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int error = errno;
    const std::string pid = error == EWOULDBLOCK ? read_pid(fd) : "";
    ::close(fd);  // never unlink: the file is the holder's
    if (error == EWOULDBLOCK) {
      throw LockError("database '" + db_path + "' is already served by another cobinar-phone (" +
                      (pid.empty() ? std::string("it") : "pid " + pid) + " holds the lock '" + path + "')");
    }
    throw LockError("cannot lock database lock file '" + path + "': " + std::strerror(error));
  }
  write_pid(fd);
  return DatabaseLock(fd, std::move(path));
}

DatabaseLock::DatabaseLock(DatabaseLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

DatabaseLock& DatabaseLock::operator=(DatabaseLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

DatabaseLock::~DatabaseLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace storage
