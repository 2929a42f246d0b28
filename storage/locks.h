// Named locks for the check-then-act steps of a write transaction (a phone's requests, a
// developer's plan limits), so they hold across the nodes of one PostgreSQL database. On
// PostgreSQL a transaction-level advisory lock on a 64-bit hash of the name (held until
// COMMIT or ROLLBACK; a hash collision only serialises two unrelated names); on SQLite
// nothing, because its one writer already runs every write transaction alone.
// Stateless; callers bring the connection of their write transaction.
#pragma once

#include <string>

#include "storage/sql.h"

namespace storage::locks {

// Returns true when it took a real lock: rows read before it may have changed meanwhile.
bool exclusive(Connection& c, const std::string& name);
// Takes the lock only if no other transaction holds it; returns whether it did (always true on
// SQLite, where nothing else can hold it).
bool try_exclusive(Connection& c, const std::string& name);

// Lock names, one place: take several only in the order listed here.
inline std::string idempotency_key(const std::string& scope, const std::string& key) { return "idempotency:" + scope + "|" + key; }
inline std::string developer(const std::string& developer_id) { return "developer:" + developer_id; }
inline std::string phone(const std::string& app_id, const std::string& phone) { return "phone:" + app_id + "|" + phone; }
inline std::string identity(const std::string& developer_id, const std::string& phone) {
  return "identity:" + developer_id + "|" + phone;
}

}  // namespace storage::locks
