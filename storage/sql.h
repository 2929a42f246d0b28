// The engine-neutral SQL seam that the repositories are written against: a connection that
// prepares statements, statements that bind parameters and step through result rows, and the
// one failure type every engine reports. The engines live in storage/sqlite/ and
// storage/postgres/; a repository's SQL is written once, in the dialect both accept (numbered
// `?N` or positional `?` parameters; PostgreSQL's driver rewrites them to `$N`).
// Not thread-safe: a Connection and its statements are used by one thread at a time.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace storage {

enum class Engine { kSqlite, kPostgres };

// Why a statement or a transaction failed, as every engine reports it.
enum class FailureKind {
  kUnavailable,  // the store cannot be used right now: I/O error, disk full, connection lost, busy too long
  kConflict,     // a concurrent transaction won (deadlock, serialization failure): running again may succeed
  kDuplicate,    // a unique key is already taken
  kInternal,     // the statement's own mistake (a bug)
};

class Failure : public std::runtime_error {
 public:
  Failure(FailureKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  FailureKind kind() const { return kind_; }

 private:
  FailureKind kind_;
};

// Parameter and column types: parameters are numbered from 1, columns from 0.
class Statement {
 public:
  class Column {
   public:
    Column(Statement& statement, int index) : statement_(statement), index_(index) {}
    bool isNull() const { return statement_.column_is_null(index_); }
    std::string getString() const { return statement_.column_text(index_); }
    int getInt() const { return static_cast<int>(statement_.column_int64(index_)); }
    long long getInt64() const { return statement_.column_int64(index_); }
    std::string getBlob() const { return statement_.column_blob(index_); }

   private:
    Statement& statement_;
    int index_;
  };

  virtual ~Statement() = default;

  void bind(int index, const std::string& value) { bind_text(index, value); }
  void bind(int index, const char* value) { bind_text(index, value); }
  void bind(int index, std::string_view value) { bind_text(index, value); }
  void bind(int index, int value) { bind_int64(index, value); }
  void bind(int index, long value) { bind_int64(index, value); }
  void bind(int index, long long value) { bind_int64(index, value); }
  void bind(int index) { bind_null(index); }
  // A byte string (a BLOB / BYTEA column).
  void bind(int index, const void* data, int size) {
    bind_blob(index, std::string_view(static_cast<const char*>(data), static_cast<std::size_t>(size)));
  }

  // Advances to the next row; false when there is none. Runs the statement on the first call.
  virtual bool executeStep() = 0;
  // Runs a statement that returns no rows; returns the rows it changed.
  virtual int exec() = 0;
  // Forgets the result and the bound values, ready to bind and run again.
  virtual void reset() = 0;

  Column getColumn(int index) { return Column(*this, index); }

  virtual bool column_is_null(int index) = 0;
  virtual std::string column_text(int index) = 0;
  virtual long long column_int64(int index) = 0;
  virtual std::string column_blob(int index) = 0;

 protected:
  virtual void bind_text(int index, std::string_view value) = 0;
  virtual void bind_int64(int index, long long value) = 0;
  virtual void bind_null(int index) = 0;
  virtual void bind_blob(int index, std::string_view bytes) = 0;
};

using Column = Statement::Column;

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Engine engine() const = 0;
  // The statement for `sql`, prepared once per connection and reused.
  virtual Statement& cached(const std::string& sql) = 0;
  // Runs SQL without parameters or result rows (one or more statements).
  virtual void exec(const std::string& sql) = 0;
  // Which of the counter rows of a key this connection adds to (PostgreSQL: fixed per
  // connection, so concurrent transactions rarely share a row; SQLite: one row, 0).
  virtual int counter_shard() const { return 0; }
  // The first column of the first row of `sql`, as text ("" for no row or NULL).
  std::string query_text(const std::string& sql);
  long long query_int64(const std::string& sql);
};

// A cached statement, reset when it goes out of scope so no read snapshot stays open.
class Prepared {
 public:
  Prepared(Connection& connection, const std::string& sql) : statement_(&connection.cached(sql)) {}
  ~Prepared() { statement_->reset(); }
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;

  Statement& operator*() { return *statement_; }
  Statement* operator->() { return statement_; }

 private:
  Statement* statement_;
};

// Runs a statement that returns no rows, binding `values` as text parameters 1, 2, ...
int exec_update(Connection& connection, const std::string& sql, std::initializer_list<std::string> values);

inline std::optional<std::string> text_or_null(const Column& column) {
  if (column.isNull()) return std::nullopt;
  return column.getString();
}

inline std::optional<std::string> blob_or_null(const Column& column) {
  if (column.isNull()) return std::nullopt;
  return column.getBlob();
}

inline void bind_text(Statement& statement, int index, const std::optional<std::string>& value) {
  if (value) {
    statement.bind(index, *value);
  } else {
    statement.bind(index);
  }
}

inline void bind_blob(Statement& statement, int index, const std::optional<std::string>& value) {
  if (value) {
    statement.bind(index, value->data(), static_cast<int>(value->size()));
  } else {
    statement.bind(index);
  }
}

}  // namespace storage
