// Prepared statements reused per connection, so the hot path does not parse SQL on every
// request. A Database registers each connection's cache for the thread that holds the
// connection; prepare() uses it, or prepares a fresh statement for any other connection.
// Not thread-safe: a cache belongs to one connection, used by one thread at a time.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <unordered_map>

namespace storage {

class StatementCache {
 public:
  explicit StatementCache(SQLite::Database& db) : db_(db) {}
  SQLite::Statement& get(const std::string& sql);
  SQLite::Database& connection() { return db_; }

 private:
  SQLite::Database& db_;
  std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> statements_;
};

// A statement ready for binding: from the calling thread's cache when `db` is the connection
// it holds, else freshly prepared. Reset when it goes out of scope, so no read snapshot stays open.
class Prepared {
 public:
  Prepared(SQLite::Database& db, const std::string& sql);
  ~Prepared();
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;

  SQLite::Statement& operator*() { return *statement_; }

 private:
  std::unique_ptr<SQLite::Statement> owned_;
  SQLite::Statement* statement_;
};

// Runs a statement that returns no rows, binding `values` as text parameters 1, 2, ...
void exec_update(SQLite::Database& db, const std::string& sql, std::initializer_list<std::string> values);

// Makes `cache` the calling thread's cache until the returned scope ends.
class ScopedStatementCache {
 public:
  explicit ScopedStatementCache(StatementCache* cache);
  ~ScopedStatementCache();

 private:
  StatementCache* previous_;
};

}  // namespace storage
