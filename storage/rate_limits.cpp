#include "storage/rate_limits.h"

#include "storage/locks.h"

namespace storage::rate_limits {

namespace {
std::string hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}
}  // namespace

std::optional<std::string> acquire(Connection& c, const std::string& limiter, const std::string& key,
                                   const std::string& now, const std::string& window_start, int limit) {
  locks::exclusive(c, "rate:" + limiter + "|" + hex(key));
  // Soft state (SQLite keeps it in memory): losing the last few events in a database crash is
  // harmless, and a flush held under the key's lock made every send of an app wait in line.
  c.exec("SET LOCAL synchronous_commit = off");
  {
    Prepared expired(c, "DELETE FROM rate_limit_events WHERE limiter = ? AND key = ? AND at <= ?");
    expired->bind(1, limiter);
    expired->bind(2, key.data(), static_cast<int>(key.size()));
    expired->bind(3, window_start);
    expired->exec();
  }
  Prepared live(c, "SELECT count(*), min(at) FROM rate_limit_events WHERE limiter = ? AND key = ?");
  live->bind(1, limiter);
  live->bind(2, key.data(), static_cast<int>(key.size()));
  live->executeStep();
  if (live->getColumn(0).getInt64() >= limit) return live->getColumn(1).getString();
  Prepared record(c, "INSERT INTO rate_limit_events(limiter, key, at) VALUES(?, ?, ?)");
  record->bind(1, limiter);
  record->bind(2, key.data(), static_cast<int>(key.size()));
  record->bind(3, now);
  record->exec();
  return std::nullopt;
}

void release(Connection& c, const std::string& limiter, const std::string& key) {
  locks::exclusive(c, "rate:" + limiter + "|" + hex(key));
  Prepared latest(c,
                  "DELETE FROM rate_limit_events WHERE ctid IN (SELECT ctid FROM rate_limit_events WHERE limiter = ? "
                  "AND key = ? ORDER BY at DESC LIMIT 1)");
  latest->bind(1, limiter);
  latest->bind(2, key.data(), static_cast<int>(key.size()));
  latest->exec();
}

int purge(Connection& c, const std::string& before, int batch) {
  if (c.engine() != Engine::kPostgres) return 0;  // SQLite counts them in memory
  Prepared old(c,
               "DELETE FROM rate_limit_events WHERE ctid IN (SELECT ctid FROM rate_limit_events WHERE at <= ? LIMIT ?)");
  old->bind(1, before);
  old->bind(2, batch);
  return old->exec();
}

}  // namespace storage::rate_limits
