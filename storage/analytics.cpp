#include "storage/analytics.h"


#include "storage/sql.h"
#include "storage/sql.h"

#include <limits>

namespace storage {

namespace {

long long single(Statement& q) {
  q.executeStep();
  return static_cast<long long>(q.getColumn(0).getInt64());
}

}  // namespace

namespace analytics {

void count(Connection& db, const std::string& app_id, const std::string& developer_id, const std::string& day,
           StatColumn column) {
  if (BatchWrites* batch = pending_writes()) {
    batch->count(app_id, developer_id, day, column);
    return;
  }
  upsert_daily_stats(db, app_id, developer_id, day, column == StatColumn::kSent, column == StatColumn::kVerified,
                     column == StatColumn::kFailed);
}

std::optional<std::string> touch_phone(Connection& db, const std::string& app_id, const std::string& phone,
                                       const std::string& at) {
  std::optional<std::string> previous;
  {
    Prepared q_prepared(db, "SELECT last_verified_at FROM app_phone_activity WHERE app_id = ? AND phone = ?");
    Statement& q = *q_prepared;
    q.bind(1, app_id);
    q.bind(2, phone);
    if (q.executeStep()) previous = q.getColumn(0).getString();
  }
  Prepared s_prepared(db,
                      "INSERT INTO app_phone_activity(app_id, phone, last_verified_at) VALUES(?, ?, ?) "
                      "ON CONFLICT(app_id, phone) DO UPDATE SET last_verified_at = excluded.last_verified_at");
  Statement& s = *s_prepared;
  s.bind(1, app_id);
  s.bind(2, phone);
  s.bind(3, at);
  s.exec();
  return previous;
}

void move_active_phone(Connection& db, ActiveScope scope, const std::string& scope_id,
                       const std::optional<std::string>& previous, const std::string& at) {
  const std::string today = at.substr(0, 10);
  const std::optional<std::string> before = previous ? std::optional(previous->substr(0, 10)) : std::nullopt;
  if (before == today) return;
  BatchWrites* batch = pending_writes();
  auto add = [&](const std::string& day, int delta) {
    if (batch) {
      batch->count_active(scope, scope_id, day, delta);
    } else {
      upsert_active_phones(db, scope, scope_id, day, delta);
    }
  };
  if (before) add(*before, -1);
  add(today, +1);
}

DayCounts totals(Connection& db, const std::string& developer_id, const std::optional<std::string>& app_id) {
  Prepared q_prepared(db,
                      "SELECT coalesce(sum(sent), 0), coalesce(sum(verified), 0), coalesce(sum(failed), 0) "
                      "FROM daily_stats WHERE developer_id = ?1 AND (?2 IS NULL OR app_id = ?2)");
  Statement& q = *q_prepared;
  q.bind(1, developer_id);
  bind_text(q, 2, app_id);
  q.executeStep();
  return DayCounts{"", static_cast<long long>(q.getColumn(0).getInt64()),
                   static_cast<long long>(q.getColumn(1).getInt64()), static_cast<long long>(q.getColumn(2).getInt64())};
}

std::vector<DayCounts> days(Connection& db, const std::string& developer_id,
                            const std::optional<std::string>& app_id, const std::string& first_day) {
  Prepared q_prepared(db,
                      "SELECT day, sum(sent), sum(verified), sum(failed) FROM daily_stats "
                      "WHERE developer_id = ?1 AND (?2 IS NULL OR app_id = ?2) AND day >= ?3 GROUP BY day ORDER BY day");
  Statement& q = *q_prepared;
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

long long active_phones(Connection& db, ActiveScope scope, const std::string& scope_id, const std::string& since) {
  const std::string first_day = since.substr(0, 10);
  Prepared days_prepared(db, "SELECT coalesce(sum(phones), 0) FROM active_phone_days WHERE scope = ? AND scope_id = ? AND day > ?");
  Statement& days = *days_prepared;
  days.bind(1, active_scope_name(scope));
  days.bind(2, scope_id);
  days.bind(3, first_day);
  const long long later_days = single(days);
  // since's own day counts only from since on. Every timestamp of that day sorts below
  // "YYYY-MM-DDT24", which bounds the walk to that one day's phones.
  Prepared edge_prepared(db, scope == ActiveScope::kDeveloper
                                 ? "SELECT count(*) FROM identities WHERE developer_id = ? AND last_verified_at >= ? "
                                   "AND last_verified_at < ?"
                                 : "SELECT count(*) FROM app_phone_activity WHERE app_id = ? AND last_verified_at >= ? "
                                   "AND last_verified_at < ?");
  Statement& edge = *edge_prepared;
  edge.bind(1, scope_id);
  edge.bind(2, since);
  edge.bind(3, first_day + "T24");
  return later_days + single(edge);
}

long long application_count(Connection& db, const std::string& developer_id) {
  Prepared q_prepared(db, "SELECT count(*) FROM applications WHERE developer_id = ?");
  Statement& q = *q_prepared;
  q.bind(1, developer_id);
  return single(q);
}

}  // namespace analytics

namespace logs {

std::vector<EventRow> list(Connection& db, const std::string& developer_id,
                           const std::optional<std::string>& app_id, const std::optional<long long>& before_seq,
                           int limit) {
  // Two shapes so each uses its index: (developer_id, seq) or (app_id, seq).
  Prepared q_prepared(db, std::string("SELECT ") + events::kColumns +
                              (app_id ? " FROM events WHERE app_id = ?2 AND developer_id = ?1 AND seq < ?3"
                                      : " FROM events WHERE developer_id = ?1 AND (?2 IS NULL) AND seq < ?3") +
                              " ORDER BY seq DESC LIMIT ?4");
  Statement& q = *q_prepared;
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
