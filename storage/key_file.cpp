#include "storage/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace storage {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

std::string to_hex(const KeyBytes& key) {
  std::string hex;
  for (std::uint8_t b : key) {
    hex += kHexDigits[b >> 4];
    hex += kHexDigits[b & 0xf];
  }
  return hex;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

KeyBytes read_key(const std::string& path, int fd) {
  char buffer[129] = {};
  const ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
  ::close(fd);
  std::string text(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  KeyBytes key{};
  if (text.size() != key.size() * 2) throw KeyFileError("key file '" + path + "' is malformed (want 64 hex digits)");
  for (std::size_t i = 0; i < key.size(); ++i) {
    const int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) throw KeyFileError("key file '" + path + "' is malformed (want 64 hex digits)");
    key[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return key;
}

}  // namespace

KeyBytes load_or_create_key_file(const std::string& path, const KeyBytes& fresh_key) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) return read_key(path, fd);
    if (errno != ENOENT) throw KeyFileError("cannot read key file '" + path + "': " + std::strerror(errno));

    // O_EXCL: if another process creates it first, read theirs on the next turn.
    const int out = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
      if (errno == EEXIST) continue;
      throw KeyFileError("cannot create key file '" + path + "': " + std::strerror(errno));
    }
    const std::string text = to_hex(fresh_key) + "\n";
    const bool written = ::fchmod(out, 0600) == 0 &&
                         ::write(out, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                         ::fsync(out) == 0;
    const int saved_errno = errno;
    ::close(out);
    if (!written) {
      ::unlink(path.c_str());
      throw KeyFileError("cannot write key file '" + path + "': " + std::strerror(saved_errno));
    }
    return fresh_key;
  }
  throw KeyFileError("cannot create key file '" + path + "'");
}

}  // namespace storage
