#include "storage/sqlite/connection.h"

#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

namespace storage {

bool is_store_failure(int sqlite_error_code) {
  switch (sqlite_error_code & 0xff) {
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return true;
    default:
      return false;
  }
}

Failure failure_of(const std::exception& error) {
  if (const auto* failure = dynamic_cast<const Failure*>(&error)) return *failure;
  if (const auto* sqlite = dynamic_cast<const SQLite::Exception*>(&error)) {
    const int extended = sqlite->getExtendedErrorCode();
    if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Failure(FailureKind::kDuplicate, sqlite->what());
    }
    const int code = sqlite->getErrorCode() & 0xff;
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED || is_store_failure(code)) {
      return Failure(FailureKind::kUnavailable, std::string(sqlite->getErrorStr()) + ": " + sqlite->what());
    }
  }
  return Failure(FailureKind::kInternal, error.what());
}

namespace {

template <typename Fn>
auto reported(Fn&& fn) {
  try {
    return fn();
  } catch (const Failure&) {
    throw;
  } catch (const std::exception& e) {
    throw failure_of(e);
  }
}

class SqliteStatement : public Statement {
 public:
  SqliteStatement(SQLite::Database& db, const std::string& sql)
      : statement_(reported([&] { return SQLite::Statement(db, sql); })) {}

  bool executeStep() override {
    return reported([&] { return statement_.executeStep(); });
  }
  int exec() override {
    return reported([&] { return statement_.exec(); });
  }
  void reset() override {
    statement_.tryReset();
    statement_.clearBindings();
  }
  bool column_is_null(int index) override { return statement_.getColumn(index).isNull(); }
  std::string column_text(int index) override { return statement_.getColumn(index).getString(); }
  long long column_int64(int index) override { return statement_.getColumn(index).getInt64(); }
  std::string column_blob(int index) override {
    const auto column = statement_.getColumn(index);
    return std::string(static_cast<const char*>(column.getBlob()), static_cast<std::size_t>(column.getBytes()));
  }

 protected:
  void bind_text(int index, std::string_view value) override {
    reported([&] { statement_.bind(index, std::string(value)); });
  }
  void bind_int64(int index, long long value) override {
    reported([&] { statement_.bind(index, static_cast<int64_t>(value)); });
  }
  void bind_null(int index) override {
    reported([&] { statement_.bind(index); });
  }
  void bind_blob(int index, std::string_view bytes) override {
    reported([&] { statement_.bind(index, bytes.data(), static_cast<int>(bytes.size())); });
  }

 private:
  SQLite::Statement statement_;
};

}  // namespace

SqliteConnection::SqliteConnection(std::unique_ptr<SQLite::Database> db) : db_(std::move(db)) {}

// Statements are finalised before their connection closes.
SqliteConnection::~SqliteConnection() { statements_.clear(); }

Statement& SqliteConnection::cached(const std::string& sql) {
  auto& slot = statements_[sql];
  if (!slot) slot = std::make_unique<SqliteStatement>(*db_, sql);
  return *slot;
}

void SqliteConnection::exec(const std::string& sql) {
  reported([&] { db_->exec(sql); });
}

SQLite::Database& sqlite_of(Connection& connection) {
  auto* sqlite = dynamic_cast<SqliteConnection*>(&connection);
  if (sqlite == nullptr) throw Failure(FailureKind::kInternal, "not an SQLite connection");
  return sqlite->raw();
}

}  // namespace storage
