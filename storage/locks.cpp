#include "storage/locks.h"

namespace storage::locks {

bool exclusive(Connection& c, const std::string& name) {
  if (c.engine() != Engine::kPostgres) return false;
  Prepared lock(c, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))");
  lock->bind(1, name);
  lock->executeStep();
  return true;
}

}  // namespace storage::locks
