// `cobinar-phone migrate-data`: copies every row of an SQLite database into an empty
// PostgreSQL database, in one PostgreSQL transaction (all or nothing). Knows both engines;
// no policy. Not thread-safe; run it with the server on the SQLite file stopped.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace storage {

class MigrateDataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MigratedData {
  int schema_version = 0;
  std::vector<std::pair<std::string, long long>> tables;  // rows copied, in copy order
};

// Migrates the SQLite file to the latest schema first (as a server start would), creates the
// schema in the PostgreSQL database if it is empty, refuses one that already holds developers,
// copies the rows, and moves the identity sequences past the copied keys. Throws
// MigrateDataError, OpenError, IncompatibleDatabase or Failure with a one-line reason.
MigratedData migrate_data(const std::string& sqlite_path, const std::string& postgres_url, const std::string& now);

}  // namespace storage
