#include "storage/receipt_keys.h"

namespace storage::receipt_keys {

std::vector<KeyRow> all(Connection& c) {
  Prepared read(c,
                "SELECT kid, x, y, private_key, created_at, signs_from, retired_at FROM receipt_keys "
                "ORDER BY created_at DESC, kid");
  std::vector<KeyRow> rows;
  while (read->executeStep()) {
    rows.push_back(KeyRow{read->getColumn(0).getString(), read->getColumn(1).getString(),
                          read->getColumn(2).getString(), read->getColumn(3).getBlob(),
                          read->getColumn(4).getString(), read->getColumn(5).getString(),
                          text_or_null(read->getColumn(6))});
  }
  return rows;
}

void insert(Connection& c, const KeyRow& row) {
  Prepared insert(c,
                  "INSERT INTO receipt_keys(kid, x, y, private_key, created_at, signs_from, retired_at) "
                  "VALUES(?, ?, ?, ?, ?, ?, ?)");
  insert->bind(1, row.kid);
  insert->bind(2, row.x);
  insert->bind(3, row.y);
  insert->bind(4, row.private_key.data(), static_cast<int>(row.private_key.size()));
  insert->bind(5, row.created_at);
  insert->bind(6, row.signs_from);
  bind_text(*insert, 7, row.retired_at);
  insert->exec();
}

void set_signs_from(Connection& c, const std::string& kid, const std::string& signs_from) {
  Prepared update(c, "UPDATE receipt_keys SET signs_from = ? WHERE kid = ?");
  update->bind(1, signs_from);
  update->bind(2, kid);
  update->exec();
}

void retire(Connection& c, const std::string& kid, const std::string& at) {
  Prepared update(c, "UPDATE receipt_keys SET retired_at = ? WHERE kid = ? AND retired_at IS NULL");
  update->bind(1, at);
  update->bind(2, kid);
  update->exec();
}

}  // namespace storage::receipt_keys
