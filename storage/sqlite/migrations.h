// The ordered list of schema migrations and the function that applies them. Not thread-safe:
// run on one connection; the write lock (BEGIN IMMEDIATE) serialises concurrent processes.
#pragma once

#include <SQLiteCpp/Database.h>

#include <stdexcept>
#include <string_view>
#include <vector>

#include "storage/store.h"

namespace storage {

// Stamped into the file header (PRAGMA application_id) so a foreign database is refused.
inline constexpr int kApplicationId = 0x436f6250;  // "CobP"

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

const std::vector<Migration>& migrations();
int latest_schema_version();

// Throws IncompatibleDatabase if the file cannot be used by this binary. Reads only.
void check_compatible(SQLite::Database& db);

// Applies the missing migrations in one transaction; a second call is a no-op.
MigrationOutcome migrate(SQLite::Database& db, std::string_view applied_at);

}  // namespace storage
