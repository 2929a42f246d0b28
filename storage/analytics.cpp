#include "storage/analytics.h"

#include <SQLiteCpp/Statement.h>

#include "storage/sql_util.h"
#include "storage/statement_cache.h"

#include <limits>

namespace storage {

namespace {

long long single(SQLite::Statement& q) {
  q.executeStep();
  return static_cast<long long>(q.getColumn(0).getInt64());
}

}  // namespace

namespace analytics {

void count(SQLite::Database& db, const std::string& app_id, const std::string& developer_id, const std::string& day,
           const char* counter) {
  // The column name comes from our own code, never from input.
  const std::string column(counter);
  Prepared s_prepared(db, "INSERT INTO daily_stats(app_id, developer_id, day, " + column + ") VALUES(?, ?, ?, 1) " +
                              "ON CONFLICT(app_id, day) DO UPDATE SET " + column + " = " + column + " + 1");
  SQLite::Statement& s = *s_prepared;
  s.bind(1, app_id);
  s.bind(2, developer_id);
  s.bind(3, day);
  s.exec();
}

void touch_phone(SQLite::Database& db, const std::string& app_id, const std::string& phone, const std::string& at) {
  Prepared s_prepared(db,
                      "INSERT INTO app_phone_activity(app_id, phone, last_verified_at) VALUES(?, ?, ?) "
                      "ON CONFLICT(app_id, phone) DO UPDATE SET last_verified_at = excluded.last_verified_at");
  SQLite::Statement& s = *s_prepared;
  s.bind(1, app_id);
  s.bind(2, phone);
  s.bind(3, at);
  s.exec();
}

DayCounts totals(SQLite::Database& db, const std::string& developer_id, const std::optional<std::string>& app_id) {
  Prepared q_prepared(db,
                      "SELECT coalesce(sum(sent), 0), coalesce(sum(verified), 0), coalesce(sum(failed), 0) "
                      "FROM daily_stats WHERE developer_id = ?1 AND (?2 IS NULL OR app_id = ?2)");
  SQLite::Statement& q = *q_prepared;
  q.bind(1, developer_id);
  bind_text(q, 2, app_id);
  q.executeStep();
  return DayCounts{"", static_cast<long long>(q.getColumn(0).getInt64()),
                   static_cast<long long>(q.getColumn(1).getInt64()), static_cast<long long>(q.getColumn(2).getInt64())};
}

std::vector<DayCounts> days(SQLite::Database& db, const std::string& developer_id,
                            const std::optional<std::string>& app_id, const std::string& first_day) {
  Prepared q_prepared(db,
                      "SELECT day, sum(sent), sum(verified), sum(failed) FROM daily_stats "
                      "WHERE developer_id = ?1 AND (?2 IS NULL OR app_id = ?2) AND day >= ?3 GROUP BY day ORDER BY day");
  SQLite::Statement& q = *q_prepared;
  q.bind(1, developer_id);
  bind_text(q, 2, app_id);
  q.bind(3, first_day);
  std::vector<DayCounts> rows;
  while (q.executeStep()) {
    rows.push_back(DayCounts{q.getColumn(0).getString(), static_cast<long long>(q.getColumn(1).getInt64()),
                             static_cast<long long>(q.getColumn(2).getInt64()),
                             static_cast<long long>(q.getColumn(3).getInt64())});
  }
  return rows;
}

long long active_identities(SQLite::Database& db, const std::string& developer_id, const std::string& since) {
  Prepared q_prepared(db, "SELECT count(*) FROM identities WHERE developer_id = ? AND last_verified_at >= ?");
  SQLite::Statement& q = *q_prepared;
  q.bind(1, developer_id);
  q.bind(2, since);
  return single(q);
}

long long active_app_phones(SQLite::Database& db, const std::string& app_id, const std::string& since) {
  Prepared q_prepared(db, "SELECT count(*) FROM app_phone_activity WHERE app_id = ? AND last_verified_at >= ?");
  SQLite::Statement& q = *q_prepared;
  q.bind(1, app_id);
  q.bind(2, since);
  return single(q);
}

long long application_count(SQLite::Database& db, const std::string& developer_id) {
  Prepared q_prepared(db, "SELECT count(*) FROM applications WHERE developer_id = ?");
  SQLite::Statement& q = *q_prepared;
  q.bind(1, developer_id);
  return single(q);
}

}  // namespace analytics

namespace logs {

std::vector<EventRow> list(SQLite::Database& db, const std::string& developer_id,
                           const std::optional<std::string>& app_id, const std::optional<long long>& before_seq,
                           int limit) {
  // Two shapes so each uses its index: (developer_id, seq) or (app_id, seq).
  Prepared q_prepared(db, std::string("SELECT ") + events::kColumns +
                              (app_id ? " FROM events WHERE app_id = ?2 AND developer_id = ?1 AND seq < ?3"
                                      : " FROM events WHERE developer_id = ?1 AND (?2 IS NULL) AND seq < ?3") +
                              " ORDER BY seq DESC LIMIT ?4");
  SQLite::Statement& q = *q_prepared;
  q.bind(1, developer_id);
  bind_text(q, 2, app_id);
  q.bind(3, static_cast<int64_t>(before_seq.value_or(std::numeric_limits<int64_t>::max())));
  q.bind(4, limit);
  std::vector<EventRow> rows;
  while (q.executeStep()) rows.push_back(events::read_row(q));
  return rows;
}

}  // namespace logs

}  // namespace storage
