#include "storage/idempotency.h"

namespace storage::idempotency {

std::optional<KeyRow> find(Connection& c, const std::string& scope, const std::string& key) {
  Prepared read(c, "SELECT fingerprint, status, body, created_at FROM idempotency_keys WHERE scope = ? AND key = ?");
  read->bind(1, scope);
  read->bind(2, key);
  if (!read->executeStep()) return std::nullopt;
  return KeyRow{scope,
                key,
                read->getColumn(0).getBlob(),
                read->getColumn(1).getInt(),
                read->getColumn(2).getBlob(),
                read->getColumn(3).getString()};
}

void insert(Connection& c, const KeyRow& row, const std::string& expired_before) {
  // A rate-limit step inside the keyed request may have set synchronous_commit off for its soft
  // state; the stored answer and the effects it vouches for are flushed like any other write.
  if (c.engine() == Engine::kPostgres) c.exec("SET LOCAL synchronous_commit = on");
  {
    Prepared stale(c, "DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND created_at < ?");
    stale->bind(1, row.scope);
    stale->bind(2, row.key);
    stale->bind(3, expired_before);
    stale->exec();
  }
  Prepared insert(c,
                  "INSERT INTO idempotency_keys(scope, key, fingerprint, status, body, created_at) "
                  "VALUES(?, ?, ?, ?, ?, ?)");
  insert->bind(1, row.scope);
  insert->bind(2, row.key);
  insert->bind(3, row.fingerprint.data(), static_cast<int>(row.fingerprint.size()));
  insert->bind(4, row.status);
  insert->bind(5, row.body.data(), static_cast<int>(row.body.size()));
  insert->bind(6, row.created_at);
  insert->exec();
}

int purge(Connection& c, const std::string& cutoff, int limit) {
  // Oldest first through the created_at index: a pass touches at most `limit` rows.
  Prepared purge(c,
                 "DELETE FROM idempotency_keys WHERE (scope, key) IN (SELECT scope, key FROM idempotency_keys "
                 "WHERE created_at < ? ORDER BY created_at LIMIT ?)");
  purge->bind(1, cutoff);
  purge->bind(2, limit);
  return purge->exec();
}

}  // namespace storage::idempotency
