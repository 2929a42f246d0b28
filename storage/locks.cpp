#include "storage/locks.h"

namespace storage::locks {

bool exclusive(Connection& c, const std::string& name) {
  if (c.engine() != Engine::kPostgres) return false;
  Prepared lock(c, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))");
  lock->bind(1, name);
  lock->executeStep();
  return true;
}

bool try_exclusive(Connection& c, const std::string& name) {
  if (c.engine() != Engine::kPostgres) return true;
  Prepared lock(c, "SELECT CASE WHEN pg_try_advisory_xact_lock(hashtextextended(?, 0)) THEN 1 ELSE 0 END");
  lock->bind(1, name);
  lock->executeStep();
  return lock->getColumn(0).getInt() != 0;
}

}  // namespace storage::locks
