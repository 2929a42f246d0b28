#include "storage/statement_cache.h"

namespace storage {

namespace {
thread_local StatementCache* current_cache = nullptr;
}  // namespace

SQLite::Statement& StatementCache::get(const std::string& sql) {
  auto& slot = statements_[sql];
  if (!slot) {
    slot = std::make_unique<SQLite::Statement>(db_, sql);
  } else {
    slot->reset();
    slot->clearBindings();
  }
  return *slot;
}

Prepared::Prepared(SQLite::Database& db, const std::string& sql) {
  if (current_cache != nullptr && &current_cache->connection() == &db) {
    statement_ = &current_cache->get(sql);
  } else {
    owned_ = std::make_unique<SQLite::Statement>(db, sql);
    statement_ = owned_.get();
  }
}

Prepared::~Prepared() {
  if (!owned_) statement_->tryReset();
}

void exec_update(SQLite::Database& db, const std::string& sql, std::initializer_list<std::string> values) {
  Prepared prepared(db, sql);
  SQLite::Statement& statement = *prepared;
  int index = 1;
  for (const auto& value : values) statement.bind(index++, value);
  statement.exec();
}

ScopedStatementCache::ScopedStatementCache(StatementCache* cache) : previous_(current_cache) { current_cache = cache; }

ScopedStatementCache::~ScopedStatementCache() { current_cache = previous_; }

}  // namespace storage
