#include "storage/batch_writes.h"


#include <iterator>

#include "storage/sql.h"
#include "storage/sql.h"

namespace storage {

namespace {

thread_local BatchWrites* current_writes = nullptr;

constexpr int kEventColumns = 9;

std::string event_insert_sql(std::size_t rows) {
  std::string sql =
      "INSERT INTO events(id, type, developer_id, app_id, request_id, phone, status, payload, created_at) VALUES";
  for (std::size_t i = 0; i < rows; ++i) sql += i == 0 ? "(?,?,?,?,?,?,?,?,?)" : ",(?,?,?,?,?,?,?,?,?)";
  return sql;
}

void bind_event(Statement& s, int first, const EventRow& row) {
  s.bind(first, row.id);
  s.bind(first + 1, row.type);
  s.bind(first + 2, row.developer_id);
  s.bind(first + 3, row.app_id);
  bind_text(s, first + 4, row.request_id);
  bind_text(s, first + 5, row.phone);
  bind_text(s, first + 6, row.status);
  s.bind(first + 7, row.payload);
  s.bind(first + 8, row.created_at);
}

}  // namespace

void BatchWrites::count(const std::string& app_id, const std::string& developer_id, const std::string& day,
                        StatColumn column) {
  Stats& stats = stats_[{app_id, day}];
  stats.developer_id = developer_id;
  (column == StatColumn::kSent ? stats.sent : column == StatColumn::kVerified ? stats.verified : stats.failed) += 1;
}

void BatchWrites::count_active(ActiveScope scope, const std::string& scope_id, const std::string& day, int delta) {
  active_[{static_cast<int>(scope), scope_id, day}] += delta;
}

void BatchWrites::add_event(EventRow row) { events_.push_back(std::move(row)); }

void BatchWrites::absorb(BatchWrites&& job) {
  for (auto& [key, stats] : job.stats_) {
    Stats& mine = stats_[key];
    mine.developer_id = std::move(stats.developer_id);
    mine.sent += stats.sent;
    mine.verified += stats.verified;
    mine.failed += stats.failed;
  }
  for (auto& [key, delta] : job.active_) active_[key] += delta;
  events_.insert(events_.end(), std::make_move_iterator(job.events_.begin()), std::make_move_iterator(job.events_.end()));
  job.stats_.clear();
  job.active_.clear();
  job.events_.clear();
}

void BatchWrites::flush(Connection& db) {
  insert_events(db, events_);
  for (const auto& [key, stats] : stats_) {
    upsert_daily_stats(db, std::get<0>(key), stats.developer_id, std::get<1>(key), stats.sent, stats.verified,
                       stats.failed);
  }
  for (const auto& [key, delta] : active_) {
    if (delta != 0) {
      upsert_active_phones(db, static_cast<ActiveScope>(std::get<0>(key)), std::get<1>(key), std::get<2>(key), delta);
    }
  }
  stats_.clear();
  active_.clear();
  events_.clear();
}

const char* active_scope_name(ActiveScope scope) {
  return scope == ActiveScope::kDeveloper ? "developer" : "application";
}

BatchWrites* pending_writes() { return current_writes; }

PendingWritesScope::PendingWritesScope(BatchWrites* writes) : previous_(current_writes) { current_writes = writes; }

PendingWritesScope::~PendingWritesScope() { current_writes = previous_; }

// With PostgreSQL a counter is a row per (key, shard), the shard chosen by the connection:
// every send and verify moves these rows, and one row per key made concurrent transactions
// wait on each other until each commit was flushed (~100 pairs/s measured). Reads sum the shards.
void upsert_daily_stats(Connection& db, const std::string& app_id, const std::string& developer_id,
                        const std::string& day, long long sent, long long verified, long long failed) {
  const bool sharded = db.engine() == Engine::kPostgres;
  Prepared s_prepared(db, std::string("INSERT INTO daily_stats(app_id, developer_id, day, sent, verified, failed") +
                              (sharded ? ", shard) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(app_id, day, shard)"
                                       : ") VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(app_id, day)") +
                              " DO UPDATE SET sent = daily_stats.sent + excluded.sent, verified = daily_stats.verified + "
                              "excluded.verified, failed = daily_stats.failed + excluded.failed");
  Statement& s = *s_prepared;
  if (sharded) s.bind(7, db.counter_shard());
  s.bind(1, app_id);
  s.bind(2, developer_id);
  s.bind(3, day);
  s.bind(4, static_cast<int64_t>(sent));
  s.bind(5, static_cast<int64_t>(verified));
  s.bind(6, static_cast<int64_t>(failed));
  s.exec();
}

void upsert_active_phones(Connection& db, ActiveScope scope, const std::string& scope_id, const std::string& day,
                          long long delta) {
  const bool sharded = db.engine() == Engine::kPostgres;
  Prepared s_prepared(db, std::string("INSERT INTO active_phone_days(scope, scope_id, day, phones") +
                              (sharded ? ", shard) VALUES(?, ?, ?, ?, ?) ON CONFLICT(scope, scope_id, day, shard)"
                                       : ") VALUES(?, ?, ?, ?) ON CONFLICT(scope, scope_id, day)") +
                              " DO UPDATE SET phones = active_phone_days.phones + excluded.phones");
  Statement& s = *s_prepared;
  if (sharded) s.bind(5, db.counter_shard());
  s.bind(1, active_scope_name(scope));
  s.bind(2, scope_id);
  s.bind(3, day);
  s.bind(4, static_cast<int64_t>(delta));
  s.exec();
}

void insert_events(Connection& db, const std::vector<EventRow>& rows) {
  if (db.engine() == Engine::kPostgres) {
    // The shared lock is taken before the row draws its seq and held until the transaction
    // ends: outbox::settled() waits for it, so the fan-out never passes a seq still in flight.
    for (const EventRow& row : rows) {
      Prepared s_prepared(db,
                          "INSERT INTO events(id, type, developer_id, app_id, request_id, phone, status, payload, "
                          "created_at) SELECT ?, ?, ?, ?, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), ?, ? FROM "
                          "(SELECT pg_advisory_xact_lock_shared(hashtextextended('cobinar-phone:events', 0))) AS held");
      bind_event(*s_prepared, 1, row);
      s_prepared->exec();
    }
    return;
  }
  // Three statement shapes, each prepared once per connection, cover any count.
  static const std::string sql[] = {event_insert_sql(16), event_insert_sql(4), event_insert_sql(1)};
  static constexpr std::size_t chunk[] = {16, 4, 1};
  std::size_t next = 0;
  for (int shape = 0; shape < 3; ++shape) {
    for (; rows.size() - next >= chunk[shape]; next += chunk[shape]) {
      Prepared s_prepared(db, sql[shape]);
      Statement& s = *s_prepared;
      for (std::size_t i = 0; i < chunk[shape]; ++i) bind_event(s, static_cast<int>(i) * kEventColumns + 1, rows[next + i]);
      s.exec();
    }
  }
}

}  // namespace storage
