#include "storage/abuse.h"

namespace storage::abuse {

namespace {

BlockRow read_block(Statement& row) {
  return BlockRow{row.getColumn(0).getString(), row.getColumn(1).getString(), row.getColumn(2).getInt64(),
                  row.getColumn(3).getInt64(),  row.getColumn(4).getString(), row.getColumn(5).getString()};
}

constexpr char kBlockColumns[] = "SELECT app_id, prefix, sends, verified, blocked_at, reopens_at FROM prefix_blocks ";

}  // namespace

void put_block(Connection& c, const BlockRow& row) {
  Prepared put(c,
               "INSERT INTO prefix_blocks(app_id, prefix, sends, verified, blocked_at, reopens_at) "
               "VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT (app_id, prefix) DO UPDATE SET sends = excluded.sends, "
               "verified = excluded.verified, blocked_at = excluded.blocked_at, reopens_at = excluded.reopens_at");
  put->bind(1, row.app_id);
  put->bind(2, row.prefix);
  put->bind(3, row.sends);
  put->bind(4, row.verified);
  put->bind(5, row.blocked_at);
  put->bind(6, row.reopens_at);
  put->exec();
}

std::vector<BlockRow> open_blocks(Connection& c, const std::string& app_id, const std::string& now) {
  // The primary key's app_id range: an application has few prefixes on record.
  Prepared read(c, std::string(kBlockColumns) + "WHERE app_id = ? AND reopens_at > ? ORDER BY blocked_at DESC, prefix");
  read->bind(1, app_id);
  read->bind(2, now);
  std::vector<BlockRow> rows;
  while (read->executeStep()) rows.push_back(read_block(*read));
  return rows;
}

std::vector<BlockRow> blocks_since(Connection& c, const std::string& since) {
  Prepared read(c, std::string(kBlockColumns) + "WHERE reopens_at > ?");
  read->bind(1, since);
  std::vector<BlockRow> rows;
  while (read->executeStep()) rows.push_back(read_block(*read));
  return rows;
}

bool lift(Connection& c, const std::string& app_id, const std::string& prefix, const std::string& now) {
  Prepared lift(c, "UPDATE prefix_blocks SET reopens_at = ? WHERE app_id = ? AND prefix = ? AND reopens_at > ?");
  lift->bind(1, now);
  lift->bind(2, app_id);
  lift->bind(3, prefix);
  lift->bind(4, now);
  if (lift->exec() == 0) return false;
  if (c.engine() == Engine::kPostgres) {
    // The prefix is judged afresh: sends counted before the lift (even in its millisecond) go.
    Prepared forget(c, "DELETE FROM breaker_sends WHERE app_id = ? AND prefix = ? AND sent_at <= ?");
    forget->bind(1, app_id);
    forget->bind(2, prefix);
    forget->bind(3, now);
    forget->exec();
  }
  return true;
}

void flush_on_commit(Connection& c) {
  if (c.engine() == Engine::kPostgres) c.exec("SET LOCAL synchronous_commit = on");
}

void lock_without_flush(Connection& c, const std::string& name) {
  Prepared lock(c, "SELECT set_config('synchronous_commit', 'off', true), pg_advisory_xact_lock(hashtextextended(?, 0))");
  lock->bind(1, name);
  lock->executeStep();
}

Judgement judge(Connection& c, const std::string& app_id, const std::string& prefix, const std::string& from) {
  Prepared read(c,
                "SELECT b.app_id, b.prefix, b.sends, b.verified, b.blocked_at, b.reopens_at, w.sends, w.verified "
                "FROM (SELECT 1) AS one LEFT JOIN prefix_blocks b ON b.app_id = ?1 AND b.prefix = ?2 "
                "CROSS JOIN LATERAL (SELECT count(*) AS sends, count(*) FILTER (WHERE s.verified) AS verified "
                "FROM breaker_sends s WHERE s.app_id = ?1 AND s.prefix = ?2 "
                "AND s.sent_at >= GREATEST(?3, COALESCE(b.reopens_at, ''))) AS w");
  read->bind(1, app_id);
  read->bind(2, prefix);
  read->bind(3, from);
  read->executeStep();
  Judgement judgement;
  if (!read->getColumn(0).isNull()) judgement.block = read_block(*read);
  judgement.sends = read->getColumn(6).getInt64();
  judgement.verified = read->getColumn(7).getInt64();
  return judgement;
}

void record_send(Connection& c, const std::string& request_id, const std::string& app_id, const std::string& prefix,
                 const std::string& sent_at) {
  Prepared record(c, "INSERT INTO breaker_sends(request_id, app_id, prefix, sent_at) VALUES(?, ?, ?, ?)");
  record->bind(1, request_id);
  record->bind(2, app_id);
  record->bind(3, prefix);
  record->bind(4, sent_at);
  record->exec();
}

void rename_send(Connection& c, const std::string& admission_id, const std::string& request_id) {
  Prepared rename(c, "UPDATE breaker_sends SET request_id = ? WHERE request_id = ?");
  rename->bind(1, request_id);
  rename->bind(2, admission_id);
  rename->exec();
}

void forget_send(Connection& c, const std::string& request_id) {
  Prepared forget(c, "DELETE FROM breaker_sends WHERE request_id = ?");
  forget->bind(1, request_id);
  forget->exec();
}

void mark_verified(Connection& c, const std::string& request_id) {
  Prepared mark(c, "UPDATE breaker_sends SET verified = true WHERE request_id = ?");
  mark->bind(1, request_id);
  mark->exec();
}

bool take_daily(Connection& c, const std::string& app_id, const std::string& day, long long limit,
                long long already) {
  {
    Prepared start(c, "INSERT INTO daily_sends(app_id, day, sends) VALUES(?, ?, ?) ON CONFLICT (app_id, day) DO NOTHING");
    start->bind(1, app_id);
    start->bind(2, day);
    start->bind(3, already);
    start->exec();
  }
  Prepared take(c, "UPDATE daily_sends SET sends = sends + 1 WHERE app_id = ? AND day = ? AND sends < ? RETURNING sends");
  take->bind(1, app_id);
  take->bind(2, day);
  take->bind(3, limit);
  return take->executeStep();
}

void give_back_daily(Connection& c, const std::string& app_id, const std::string& day) {
  Prepared back(c, "UPDATE daily_sends SET sends = sends - 1 WHERE app_id = ? AND day = ? AND sends > 0");
  back->bind(1, app_id);
  back->bind(2, day);
  back->exec();
}

bool daily_counted(Connection& c, const std::string& app_id, const std::string& day) {
  Prepared read(c, "SELECT 1 FROM daily_sends WHERE app_id = ? AND day = ?");
  read->bind(1, app_id);
  read->bind(2, day);
  return read->executeStep();
}

int purge(Connection& c, const std::string& before, const std::string& day, const std::string& reopened_before,
          int batch) {
  int removed = 0;
  if (c.engine() == Engine::kPostgres) {
    Prepared sends(c,
                   "DELETE FROM breaker_sends WHERE request_id IN (SELECT request_id FROM breaker_sends "
                   "WHERE sent_at < ? LIMIT ?)");
    sends->bind(1, before);
    sends->bind(2, batch);
    removed += sends->exec();
    Prepared days(c, "DELETE FROM daily_sends WHERE day < ?");
    days->bind(1, day);
    removed += days->exec();
  }
  Prepared blocks(c,
                  "DELETE FROM prefix_blocks WHERE (app_id, prefix) IN (SELECT app_id, prefix FROM prefix_blocks "
                  "WHERE reopens_at < ? LIMIT ?)");
  blocks->bind(1, reopened_before);
  blocks->bind(2, batch);
  removed += blocks->exec();
  return removed;
}

namespace {
SendRow read_send(Statement& row) {
  return SendRow{row.getColumn(0).getString(),  row.getColumn(1).getString(), row.getColumn(2).getString(),
                 text_or_null(row.getColumn(3)), text_or_null(row.getColumn(4)), row.getColumn(5).getString(),
                 text_or_null(row.getColumn(6))};
}
constexpr char kSendColumns[] =
    "SELECT id, app_id, phone, region, number_type, created_at, verified_at FROM otp_requests ";
}  // namespace

std::vector<SendRow> sends_after(Connection& c, const std::string& app_id, const std::string& after_id, int limit) {
  Prepared read(c, std::string(kSendColumns) +
                       "WHERE app_id = ? AND id > ? AND phone NOT LIKE '+999%' ORDER BY app_id, id LIMIT ?");
  read->bind(1, app_id);
  read->bind(2, after_id);
  read->bind(3, limit);
  std::vector<SendRow> rows;
  while (read->executeStep()) rows.push_back(read_send(*read));
  return rows;
}

std::vector<std::string> live_application_ids(Connection& c) {
  Prepared read(c, "SELECT id FROM applications WHERE environment = 'live'");
  std::vector<std::string> ids;
  while (read->executeStep()) ids.push_back(read->getColumn(0).getString());
  return ids;
}

long long count_sends_from(Connection& c, const std::string& app_id, const std::string& from_id) {
  Prepared count(c, "SELECT count(*) FROM otp_requests WHERE app_id = ? AND id >= ? AND phone NOT LIKE '+999%'");
  count->bind(1, app_id);
  count->bind(2, from_id);
  count->executeStep();
  return count->getColumn(0).getInt64();
}

}  // namespace storage::abuse
