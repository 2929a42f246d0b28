#include "storage/server_meta.h"

namespace storage::server_meta {

std::string claim(Connection& c, const std::string& key, const std::string& value) {
  {
    Prepared insert(c, "INSERT INTO server_meta(key, value) VALUES(?, ?) ON CONFLICT DO NOTHING");
    insert->bind(1, key);
    insert->bind(2, value);
    insert->exec();
  }
  Prepared read(c, "SELECT value FROM server_meta WHERE key = ?");
  read->bind(1, key);
  return read->executeStep() ? read->getColumn(0).getString() : value;
}

}  // namespace storage::server_meta
