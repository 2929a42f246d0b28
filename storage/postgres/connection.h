// The PostgreSQL engine's side of the SQL seam: a Connection over one libpq connection. The
// repositories' `?N` / `?` parameters become `$N`; statements are prepared once per connection
// and per parameter types; results come as text (BYTEA decoded from its hex form). libpq's
// errors become storage::Failure by SQLSTATE. Not thread-safe: one thread at a time.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "storage/sql.h"

struct pg_conn;

namespace storage {

// True for the addresses --db takes as PostgreSQL: postgres:// and postgresql:// URLs.
bool is_postgres_url(std::string_view db);

// The URL with any password replaced by "***", for logs and errors.
std::string redact_url(std::string_view url);

// `sql` with SQLite-style parameters (?N, ?) rewritten as $N; quoted text is left alone.
std::string to_postgres_parameters(std::string_view sql);

class PgConnection : public Connection {
 public:
  // Connects; throws Failure(kUnavailable) with libpq's reason when it cannot.
  explicit PgConnection(const std::string& url);
  ~PgConnection() override;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Engine engine() const override { return Engine::kPostgres; }
  int counter_shard() const override { return shard_; }
  Statement& cached(const std::string& sql) override;
  void exec(const std::string& sql) override;

  // False once the server closed the connection or it broke: the pool drops it.
  bool healthy() const;
  pg_conn* raw() { return conn_; }

  // The name of the server-side prepared statement for (sql, parameter types), preparing it first.
  std::string prepared_name(const std::string& sql, const std::string& types, int parameters);

 private:
  pg_conn* conn_ = nullptr;
  int shard_ = 0;  // 0..63, drawn at connect time
  std::unordered_map<std::string, std::unique_ptr<Statement>> statements_;
  std::map<std::pair<std::string, std::string>, std::string> prepared_;
};

}  // namespace storage
