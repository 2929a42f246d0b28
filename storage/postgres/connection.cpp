#include "storage/postgres/connection.h"

#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>
#include <vector>

namespace storage {

namespace {

constexpr Oid kText = 25;
constexpr Oid kInt8 = 20;
constexpr Oid kBytea = 17;
constexpr Oid kBool = 16;

// libpq's message as one line (it spreads hints over several, indented with tabs).
std::string first_line(const char* message) {
  std::string text;
  for (const char* c = message != nullptr ? message : ""; *c != '\0'; ++c) {
    if (*c == '\n' || *c == '\t') {
      if (!text.empty() && text.back() != ' ') text += ' ';
    } else {
      text += *c;
    }
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

Failure failure_of(PGconn* conn, const PGresult* result) {
  const std::string message = first_line(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn));
  const char* field = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string state = field != nullptr ? field : "";
  if (state == "40001" || state == "40P01" || state == "55P03") return Failure(FailureKind::kConflict, message);
  if (state == "23505") return Failure(FailureKind::kDuplicate, message);
  const std::string kind = state.substr(0, 2);
  if (state.empty() || PQstatus(conn) != CONNECTION_OK || kind == "08" || kind == "53" || kind == "57" ||
      kind == "58") {
    return Failure(FailureKind::kUnavailable, "PostgreSQL: " + message);
  }
  return Failure(FailureKind::kInternal, "PostgreSQL: " + message);
}

std::string decode_bytea(const char* text, int length) {
  if (length < 2 || text[0] != '\\' || text[1] != 'x') return std::string(text, static_cast<std::size_t>(length));
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string bytes;
  bytes.reserve(static_cast<std::size_t>(length - 2) / 2);
  for (int i = 2; i + 1 < length; i += 2) bytes.push_back(static_cast<char>(nibble(text[i]) << 4 | nibble(text[i + 1])));
  return bytes;
}

int parameter_count(std::string_view sql) {
  // to_postgres_parameters has numbered them: the highest $N.
  int highest = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != '$') continue;
    int n = 0;
    std::size_t j = i + 1;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') n = n * 10 + (sql[j++] - '0');
    highest = std::max(highest, n);
  }
  return highest;
}

class PgStatement : public Statement {
 public:
  PgStatement(PgConnection& connection, const std::string& sql)
      : connection_(connection), sql_(to_postgres_parameters(sql)), parameters_(parameter_count(sql_)) {
    clear_bindings();
  }
  ~PgStatement() override { PQclear(result_); }

  bool executeStep() override {
    if (result_ == nullptr) run();
    if (row_ + 1 >= PQntuples(result_)) {
      row_ = PQntuples(result_);
      return false;
    }
    ++row_;
    return true;
  }

  int exec() override {
    run();
    const char* changed = PQcmdTuples(result_);
    return changed != nullptr && *changed != '\0' ? std::atoi(changed) : 0;
  }

  void reset() override {
    PQclear(result_);
    result_ = nullptr;
    row_ = -1;
    clear_bindings();
  }

  bool column_is_null(int index) override { return PQgetisnull(result_, row_, index) == 1; }
  std::string column_text(int index) override {
    return std::string(PQgetvalue(result_, row_, index), static_cast<std::size_t>(PQgetlength(result_, row_, index)));
  }
  long long column_int64(int index) override {
    const char* value = PQgetvalue(result_, row_, index);
    if (PQftype(result_, index) == kBool) return value[0] == 't' ? 1 : 0;
    return std::strtoll(value, nullptr, 10);
  }
  std::string column_blob(int index) override {
    const char* value = PQgetvalue(result_, row_, index);
    const int length = PQgetlength(result_, row_, index);
    if (PQftype(result_, index) == kBytea) return decode_bytea(value, length);
    return std::string(value, static_cast<std::size_t>(length));
  }

 protected:
  void bind_text(int index, std::string_view value) override { set(index, std::string(value), kText, 0); }
  void bind_int64(int index, long long value) override { set(index, std::to_string(value), kInt8, 0); }
  void bind_null(int index) override {
    check(index);
    values_[index - 1].reset();
    types_[index - 1] = 0;
  }
  void bind_blob(int index, std::string_view bytes) override { set(index, std::string(bytes), kBytea, 1); }

 private:
  void check(int index) const {
    if (index < 1 || index > parameters_) {
      throw Failure(FailureKind::kInternal, "parameter " + std::to_string(index) + " out of range in: " + sql_);
    }
  }
  void set(int index, std::string value, Oid type, int format) {
    check(index);
    values_[index - 1] = std::move(value);
    types_[index - 1] = type;
    formats_[index - 1] = format;
  }
  void clear_bindings() {
    values_.assign(static_cast<std::size_t>(parameters_), std::nullopt);
    types_.assign(static_cast<std::size_t>(parameters_), 0);
    formats_.assign(static_cast<std::size_t>(parameters_), 0);
  }

  void run() {
    PQclear(result_);
    result_ = nullptr;
    row_ = -1;
    std::string signature;
    for (Oid type : types_) signature += std::to_string(type) + ",";
    const std::string name = connection_.prepared_name(sql_, signature, parameters_);
    std::vector<const char*> values(static_cast<std::size_t>(parameters_));
    std::vector<int> lengths(static_cast<std::size_t>(parameters_));
    for (std::size_t i = 0; i < values.size(); ++i) {
      values[i] = values_[i] ? values_[i]->data() : nullptr;
      lengths[i] = values_[i] ? static_cast<int>(values_[i]->size()) : 0;
    }
    PGresult* result = PQexecPrepared(connection_.raw(), name.c_str(), parameters_, values.data(), lengths.data(),
                                      formats_.data(), 0);
    const auto status = PQresultStatus(result);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      Failure failure = failure_of(connection_.raw(), result);
      PQclear(result);
      throw failure;
    }
    result_ = result;
  }

  PgConnection& connection_;
  const std::string sql_;
  const int parameters_;
  std::vector<std::optional<std::string>> values_;
  std::vector<Oid> types_;
  std::vector<int> formats_;
  PGresult* result_ = nullptr;
  int row_ = -1;
};

}  // namespace

bool is_postgres_url(std::string_view db) {
  return db.rfind("postgres://", 0) == 0 || db.rfind("postgresql://", 0) == 0;
}

std::string redact_url(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto at = url.find('@', scheme + 3);
  if (at == std::string_view::npos) return std::string(url);
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

std::string to_postgres_parameters(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 0;
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      out += c;
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c != '?') {
      out += c;
      continue;
    }
    out += '$';
    if (i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') continue;  // ?N: the digits follow
    out += std::to_string(++next);
  }
  return out;
}

PgConnection::PgConnection(const std::string& url) {
  // The URL's own settings win over these defaults (they come after them).
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"5", "cobinar-phone", url.c_str(), nullptr};
  conn_ = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    const std::string reason = conn_ != nullptr ? first_line(PQerrorMessage(conn_)) : "out of memory";
    PQfinish(conn_);
    conn_ = nullptr;
    throw Failure(FailureKind::kUnavailable, "cannot connect to PostgreSQL at " + redact_url(url) + ": " + reason);
  }
  // An answered request is committed: whatever the server's default, this session waits for
  // its commits to be flushed. Timestamps are ISO text compared as bytes, never as local time.
  exec("SET synchronous_commit = on; SET client_min_messages = warning; SET TIME ZONE 'UTC'");
  static std::atomic<unsigned> connections{0};
  shard_ = static_cast<int>((connections++ * 37u + static_cast<unsigned>(PQbackendPID(conn_))) % 64u);
}

PgConnection::~PgConnection() {
  statements_.clear();
  PQfinish(conn_);
}

Statement& PgConnection::cached(const std::string& sql) {
  auto& slot = statements_[sql];
  if (!slot) slot = std::make_unique<PgStatement>(*this, sql);
  return *slot;
}

void PgConnection::exec(const std::string& sql) {
  PGresult* result = PQexec(conn_, sql.c_str());
  const auto status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Failure failure = failure_of(conn_, result);
    PQclear(result);
    throw failure;
  }
  PQclear(result);
}

bool PgConnection::healthy() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

std::string PgConnection::prepared_name(const std::string& sql, const std::string& types, int parameters) {
  auto [slot, inserted] = prepared_.try_emplace({sql, types});
  if (!inserted) return slot->second;
  const std::string name = "s" + std::to_string(prepared_.size());
  std::vector<Oid> oids;
  for (std::size_t start = 0; start < types.size();) {
    const auto comma = types.find(',', start);
    oids.push_back(static_cast<Oid>(std::strtoul(types.substr(start, comma - start).c_str(), nullptr, 10)));
    start = comma + 1;
  }
  PGresult* result = PQprepare(conn_, name.c_str(), sql.c_str(), parameters, oids.data());
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  if (state != nullptr && (std::string_view(state) == "42P18" || std::string_view(state) == "42P08")) {
    // A NULL bound where only "? IS NULL" mentions the parameter: nothing tells its type,
    // and any type will do; text it is.
    PQclear(result);
    for (Oid& oid : oids) {
      if (oid == 0) oid = kText;
    }
    result = PQprepare(conn_, name.c_str(), sql.c_str(), parameters, oids.data());
  }
  if (PQresultStatus(result) != PGRES_COMMAND_OK) {
    Failure failure = failure_of(conn_, result);
    PQclear(result);
    prepared_.erase(slot);
    throw failure;
  }
  PQclear(result);
  slot->second = name;
  return name;
}

}  // namespace storage
