// Stored first answers of keyed requests (SPEC §16): SQL only. Stateless; callers bring the
// connection (a write's, so the answer lands in the transaction of the request's effects).
#pragma once

#include <optional>
#include <string>

#include "storage/sql.h"

namespace storage::idempotency {

struct KeyRow {
  std::string scope;        // "app:<id>" or "developer:<id>"
  std::string key;
  std::string fingerprint;  // raw hash bytes
  int status = 0;
  std::string body;         // sealed answer bytes
  std::string created_at;
};

std::optional<KeyRow> find(Connection& c, const std::string& scope, const std::string& key);
// Inserts the row, replacing an expired one (created_at before `expired_before`) of the same key.
void insert(Connection& c, const KeyRow& row, const std::string& expired_before);
// Deletes up to `limit` rows created before `cutoff`, oldest first; returns how many.
int purge(Connection& c, const std::string& cutoff, int limit);

}  // namespace storage::idempotency
