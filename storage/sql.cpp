#include "storage/sql.h"

#include "storage/store.h"

namespace storage {

std::string Connection::query_text(const std::string& sql) {
  Prepared query(*this, sql);
  if (!query->executeStep() || query->column_is_null(0)) return "";
  return query->column_text(0);
}

long long Connection::query_int64(const std::string& sql) {
  Prepared query(*this, sql);
  if (!query->executeStep() || query->column_is_null(0)) return 0;
  return query->column_int64(0);
}

void announce(Connection& c, const std::string& topic) {
  if (c.engine() != Engine::kPostgres) return;
  Prepared notify(c, "SELECT pg_notify('cobinar_phone', ?)");
  notify->bind(1, topic);
  notify->executeStep();
}

int exec_update(Connection& connection, const std::string& sql, std::initializer_list<std::string> values) {
  Prepared prepared(connection, sql);
  int index = 1;
  for (const auto& value : values) prepared->bind(index++, value);
  return prepared->exec();
}

}  // namespace storage
