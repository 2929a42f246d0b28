#include "storage/otp.h"

#include <algorithm>


#include "storage/batch_writes.h"
#include "storage/sql.h"
#include "storage/sql.h"

namespace storage {

namespace {

constexpr char kOtpColumns[] =
    "id, app_id, developer_id, phone, status, failure_reason, code_hash, attempts, delivery_status, created_at, "
    "expires_at, verified_at, updated_at, region, number_type, code_length, code_alphabet, max_attempts, locale, nonce";

int int_or(const Column& column, int fallback) { return column.isNull() ? fallback : column.getInt(); }

OtpRow read_otp(Statement& q) {
  OtpRow row{q.getColumn(0).getString(),  q.getColumn(1).getString(),  q.getColumn(2).getString(),
             q.getColumn(3).getString(),  q.getColumn(4).getString(),  text_or_null(q.getColumn(5)),
             blob_or_null(q.getColumn(6)), q.getColumn(7).getInt(),     q.getColumn(8).getString(),
             q.getColumn(9).getString(),  q.getColumn(10).getString(), text_or_null(q.getColumn(11)),
             q.getColumn(12).getString()};
  row.region = text_or_null(q.getColumn(13));
  row.number_type = text_or_null(q.getColumn(14));
  row.code_length = int_or(q.getColumn(15), kDefaultCodeLength);
  row.code_alphabet = text_or_null(q.getColumn(16)).value_or(kDefaultCodeAlphabet);
  row.max_attempts = int_or(q.getColumn(17), kDefaultMaxAttempts);
  row.locale = text_or_null(q.getColumn(18));
  row.nonce = text_or_null(q.getColumn(19));
  return row;
}

// Rows of `table` (otp_requests or identities: both key by id and hold phone, region and
// number_type) without number facts, found through the table's partial index.
std::vector<PhoneFactsRow> missing_facts_in(Connection& db, const std::string& table, int limit) {
  Prepared q_prepared(db, "SELECT id, phone FROM " + table + " WHERE number_type IS NULL ORDER BY id LIMIT ?");
  Statement& q = *q_prepared;
  q.bind(1, limit);
  std::vector<PhoneFactsRow> rows;
  while (q.executeStep()) rows.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(), std::nullopt, ""});
  return rows;
}

void set_facts_in(Connection& db, const std::string& table, const PhoneFactsRow& row) {
  Prepared s_prepared(db, "UPDATE " + table + " SET region = ?, number_type = ? WHERE id = ?");
  Statement& s = *s_prepared;
  bind_text(s, 1, row.region);
  s.bind(2, row.number_type);
  s.bind(3, row.key);
  s.exec();
}

}  // namespace

namespace otp {

void insert(Connection& db, const OtpRow& row) {
  Prepared s_prepared(db, std::string("INSERT INTO otp_requests(") + kOtpColumns +
                              ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  Statement& s = *s_prepared;
  s.bind(1, row.id);
  s.bind(2, row.app_id);
  s.bind(3, row.developer_id);
  s.bind(4, row.phone);
  s.bind(5, row.status);
  bind_text(s, 6, row.failure_reason);
  bind_blob(s, 7, row.code_hash);
  s.bind(8, row.attempts);
  s.bind(9, row.delivery_status);
  s.bind(10, row.created_at);
  s.bind(11, row.expires_at);
  bind_text(s, 12, row.verified_at);
  s.bind(13, row.updated_at);
  bind_text(s, 14, row.region);
  bind_text(s, 15, row.number_type);
  // The common shape (6 digits, 5 attempts) is stored as NULL: fewer bytes per request.
  if (row.code_length == kDefaultCodeLength) s.bind(16); else s.bind(16, row.code_length);
  if (row.code_alphabet == kDefaultCodeAlphabet) s.bind(17); else s.bind(17, row.code_alphabet);
  if (row.max_attempts == kDefaultMaxAttempts) s.bind(18); else s.bind(18, row.max_attempts);
  bind_text(s, 19, row.locale);
  bind_text(s, 20, row.nonce);
  s.exec();
}

std::vector<PhoneFactsRow> missing_phone_facts(Connection& db, int limit) {
  return missing_facts_in(db, "otp_requests", limit);
}

void set_phone_facts(Connection& db, const PhoneFactsRow& row) { set_facts_in(db, "otp_requests", row); }

std::optional<OtpRow> find(Connection& db, const std::string& id) {
  Prepared q_prepared(db, std::string("SELECT ") + kOtpColumns + " FROM otp_requests WHERE id = ?");
  Statement& q = *q_prepared;
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  return read_otp(q);
}

std::vector<OtpRow> list(Connection& db, const std::string& developer_id, const OtpFilter& filter) {
  // The status a client sees: pending past its TTL reads as expired.
  std::string sql = std::string("SELECT ") + kOtpColumns +
                    " FROM otp_requests WHERE developer_id = ?1 AND (?2 IS NULL OR app_id = ?2)"
                    " AND (?3 IS NULL OR id < ?3)";
  if (filter.status == "pending") {
    sql += " AND status = 'pending' AND expires_at > ?4";
  } else if (filter.status == "expired") {
    sql += " AND (status = 'expired' OR (status = 'pending' AND expires_at <= ?4))";
  } else if (filter.status) {
    sql += " AND status = ?5";
  }
  sql += " ORDER BY id DESC LIMIT ?6";
  Prepared q_prepared(db, sql);
  Statement& q = *q_prepared;
  q.bind(1, developer_id);
  bind_text(q, 2, filter.app_id);
  bind_text(q, 3, filter.before_id);
  if (filter.status == "pending" || filter.status == "expired") q.bind(4, filter.now);
  if (filter.status && filter.status != "pending" && filter.status != "expired") q.bind(5, *filter.status);
  q.bind(6, filter.limit);
  std::vector<OtpRow> rows;
  while (q.executeStep()) rows.push_back(read_otp(q));
  return rows;
}

std::vector<OtpRow> pending(Connection& db, const std::string& app_id, const std::string& phone) {
  Prepared q_prepared(db, std::string("SELECT ") + kOtpColumns +
                              " FROM otp_requests WHERE app_id = ? AND phone = ? AND status = 'pending'");
  Statement& q = *q_prepared;
  q.bind(1, app_id);
  q.bind(2, phone);
  std::vector<OtpRow> rows;
  while (q.executeStep()) rows.push_back(read_otp(q));
  return rows;
}

std::vector<OtpRow> pending_expired(Connection& db, const std::string& now, int limit) {
  // Walks the partial index of pending requests, which holds only the live ones.
  const char* indexed = db.engine() == Engine::kSqlite ? " INDEXED BY otp_requests_pending" : "";
  Prepared q_prepared(db, std::string("SELECT ") + kOtpColumns + " FROM otp_requests" + indexed +
                              " WHERE status = 'pending' AND expires_at <= ? LIMIT ?");
  Statement& q = *q_prepared;
  q.bind(1, now);
  q.bind(2, limit);
  std::vector<OtpRow> rows;
  while (q.executeStep()) rows.push_back(read_otp(q));
  return rows;
}

void update(Connection& db, const OtpRow& row) {
  Prepared s_prepared(db,
                      "UPDATE otp_requests SET status = ?, failure_reason = ?, code_hash = ?, attempts = ?, "
                      "delivery_status = ?, verified_at = ?, updated_at = ? WHERE id = ?");
  Statement& s = *s_prepared;
  s.bind(1, row.status);
  bind_text(s, 2, row.failure_reason);
  bind_blob(s, 3, row.code_hash);
  s.bind(4, row.attempts);
  s.bind(5, row.delivery_status);
  bind_text(s, 6, row.verified_at);
  s.bind(7, row.updated_at);
  s.bind(8, row.id);
  s.exec();
}

void set_delivery_status(Connection& db, const std::string& id, const std::string& delivery_status) {
  Prepared s_prepared(db, "UPDATE otp_requests SET delivery_status = ? WHERE id = ?");
  Statement& s = *s_prepared;
  s.bind(1, delivery_status);
  s.bind(2, id);
  s.exec();
}

}  // namespace otp

namespace phone_failures {

std::optional<PhoneFailures> get(Connection& db, const std::string& app_id, const std::string& phone) {
  Prepared q_prepared(db, "SELECT consecutive_failures, locked_until FROM phone_failures WHERE app_id = ? AND phone = ?");
  Statement& q = *q_prepared;
  q.bind(1, app_id);
  q.bind(2, phone);
  if (!q.executeStep()) return std::nullopt;
  return PhoneFailures{q.getColumn(0).getInt(), text_or_null(q.getColumn(1))};
}

void put(Connection& db, const std::string& app_id, const std::string& phone, const PhoneFailures& value) {
  Prepared s_prepared(db,
                      "INSERT INTO phone_failures(app_id, phone, consecutive_failures, locked_until, updated_at) "
                      "VALUES(?, ?, ?, ?, ?) ON CONFLICT(app_id, phone) DO UPDATE SET consecutive_failures = "
                      "excluded.consecutive_failures, locked_until = excluded.locked_until, updated_at = excluded.updated_at");
  Statement& s = *s_prepared;
  s.bind(1, app_id);
  s.bind(2, phone);
  s.bind(3, value.consecutive);
  bind_text(s, 4, value.locked_until);
  bind_text(s, 5, value.updated_at);
  s.exec();
}

void clear(Connection& db, const std::string& app_id, const std::string& phone) {
  exec_update(db, "DELETE FROM phone_failures WHERE app_id = ? AND phone = ?", {app_id, phone});
}

}  // namespace phone_failures

namespace sms_jobs {

namespace {
constexpr char kColumns[] =
    "id, request_id, app_id, app_name, phone, driver, message_box, code_box, status, attempts, next_attempt_at, "
    "last_error, created_at";
}

void insert(Connection& db, const SmsJobRow& row) {
  Prepared s_prepared(db,
                      "INSERT INTO sms_jobs(request_id, app_id, app_name, phone, driver, message_box, code_box, status, "
                      "attempts, next_attempt_at, last_error, created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  Statement& s = *s_prepared;
  s.bind(1, row.request_id);
  s.bind(2, row.app_id);
  s.bind(3, row.app_name);
  s.bind(4, row.phone);
  s.bind(5, row.driver);
  bind_blob(s, 6, row.message_box);
  bind_blob(s, 7, row.code_box);
  s.bind(8, row.status);
  s.bind(9, row.attempts);
  s.bind(10, row.next_attempt_at);
  bind_text(s, 11, row.last_error);
  s.bind(12, row.created_at);
  s.exec();
}

std::vector<SmsJobRow> claim_due(Connection& db, const std::string& now, const std::string& lease_until, int limit) {
  // Other workers' claims (other nodes') are passed over, not waited for.
  const char* skip_locked = db.engine() == Engine::kPostgres ? " FOR UPDATE SKIP LOCKED" : "";
  Prepared q_prepared(db, std::string("UPDATE sms_jobs SET next_attempt_at = ?2 WHERE id IN (SELECT id FROM sms_jobs "
                                      "WHERE status = 'queued' AND next_attempt_at <= ?1 ORDER BY next_attempt_at "
                                      "LIMIT ?3") + skip_locked + ") RETURNING " + kColumns);
  Statement& q = *q_prepared;
  q.bind(1, now);
  q.bind(2, lease_until);
  q.bind(3, limit);
  std::vector<SmsJobRow> rows;
  while (q.executeStep()) {
    rows.push_back(SmsJobRow{static_cast<long long>(q.getColumn(0).getInt64()), q.getColumn(1).getString(), q.getColumn(2).getString(),
                             q.getColumn(3).getString(), q.getColumn(4).getString(), q.getColumn(5).getString(),
                             blob_or_null(q.getColumn(6)), blob_or_null(q.getColumn(7)), q.getColumn(8).getString(),
                             q.getColumn(9).getInt(), q.getColumn(10).getString(), text_or_null(q.getColumn(11)),
                             q.getColumn(12).getString()});
  }
  // RETURNING gives no order; ids grow with time, so this sends the oldest first.
  std::sort(rows.begin(), rows.end(), [](const SmsJobRow& a, const SmsJobRow& b) { return a.id < b.id; });
  return rows;
}

bool any_due(Connection& db, const std::string& now) {
  Prepared q(db, "SELECT 1 FROM sms_jobs WHERE status = 'queued' AND next_attempt_at <= ? LIMIT 1");
  q->bind(1, now);
  return q->executeStep();
}

void update(Connection& db, const SmsJobRow& row) {
  Prepared s_prepared(db,
                      "UPDATE sms_jobs SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, "
                      "message_box = ?, code_box = ? WHERE id = ?");
  Statement& s = *s_prepared;
  s.bind(1, row.status);
  s.bind(2, row.attempts);
  s.bind(3, row.next_attempt_at);
  bind_text(s, 4, row.last_error);
  bind_blob(s, 5, row.message_box);
  bind_blob(s, 6, row.code_box);
  s.bind(7, static_cast<int64_t>(row.id));
  s.exec();
}

void erase_message(Connection& db, const std::string& request_id) {
  Prepared s_prepared(db,
                      "UPDATE sms_jobs SET message_box = NULL, code_box = NULL, "
                      "status = CASE status WHEN 'queued' THEN 'failed' ELSE status END, "
                      "last_error = CASE status WHEN 'queued' THEN 'the code is no longer pending' ELSE last_error END "
                      "WHERE request_id = ?");
  Statement& s = *s_prepared;
  s.bind(1, request_id);
  s.exec();
}

}  // namespace sms_jobs

namespace inbox {

void insert(Connection& db, const InboxRow& row) {
  Prepared s_prepared(db,
                      "INSERT INTO inbox_messages(id, request_id, app_id, developer_id, phone, message_box, created_at) "
                      "VALUES(?, ?, ?, ?, ?, ?, ?)");
  Statement& s = *s_prepared;
  s.bind(1, row.id);
  s.bind(2, row.request_id);
  s.bind(3, row.app_id);
  s.bind(4, row.developer_id);
  s.bind(5, row.phone);
  bind_blob(s, 6, row.message_box);
  s.bind(7, row.created_at);
  s.exec();
}

std::vector<InboxRow> list(Connection& db, const std::string& developer_id, const std::optional<std::string>& app_id,
                           const std::optional<std::string>& phone, const std::optional<std::string>& before_id,
                           int limit) {
  Prepared q_prepared(db,
                      "SELECT m.id, m.request_id, m.app_id, m.developer_id, m.phone, m.message_box, m.created_at, "
                      "coalesce(r.status, 'expired'), coalesce(r.expires_at, '') FROM inbox_messages m "
                      "LEFT JOIN otp_requests r ON r.id = m.request_id "
                      "WHERE m.developer_id = ?1 AND (?2 IS NULL OR m.app_id = ?2) AND (?3 IS NULL OR m.phone = ?3) "
                      "AND (?4 IS NULL OR m.id < ?4) ORDER BY m.id DESC LIMIT ?5");
  Statement& q = *q_prepared;
  q.bind(1, developer_id);
  bind_text(q, 2, app_id);
  bind_text(q, 3, phone);
  bind_text(q, 4, before_id);
  q.bind(5, limit);
  std::vector<InboxRow> rows;
  while (q.executeStep()) {
    rows.push_back(InboxRow{q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                            q.getColumn(3).getString(), q.getColumn(4).getString(), blob_or_null(q.getColumn(5)),
                            q.getColumn(6).getString(), q.getColumn(7).getString(), q.getColumn(8).getString()});
  }
  return rows;
}

void erase_text(Connection& db, const std::string& request_id) {
  Prepared s_prepared(db, "UPDATE inbox_messages SET message_box = NULL WHERE request_id = ?");
  Statement& s = *s_prepared;
  s.bind(1, request_id);
  s.exec();
}

}  // namespace inbox

namespace identities {

namespace {
constexpr char kColumns[] =
    "developer_id, phone, id, created_at, last_verified_at, verification_count, last_application_id, region, "
    "number_type";
IdentityRow read_identity(Statement& q) {
  return IdentityRow{q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                     q.getColumn(3).getString(), q.getColumn(4).getString(), q.getColumn(5).getInt(),
                     q.getColumn(6).getString(), text_or_null(q.getColumn(7)), text_or_null(q.getColumn(8))};
}
}  // namespace

std::optional<IdentityRow> find(Connection& db, const std::string& developer_id, const std::string& phone) {
  Prepared q_prepared(db, std::string("SELECT ") + kColumns + " FROM identities WHERE developer_id = ? AND phone = ?");
  Statement& q = *q_prepared;
  q.bind(1, developer_id);
  q.bind(2, phone);
  if (!q.executeStep()) return std::nullopt;
  return read_identity(q);
}

void insert(Connection& db, const IdentityRow& row) {
  Prepared s_prepared(db, std::string("INSERT INTO identities(") + kColumns + ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
  Statement& s = *s_prepared;
  s.bind(1, row.developer_id);
  s.bind(2, row.phone);
  s.bind(3, row.id);
  s.bind(4, row.created_at);
  s.bind(5, row.last_verified_at);
  s.bind(6, row.verification_count);
  s.bind(7, row.last_application_id);
  bind_text(s, 8, row.region);
  bind_text(s, 9, row.number_type);
  s.exec();
}

void update(Connection& db, const IdentityRow& row) {
  Prepared s_prepared(db,
                      "UPDATE identities SET last_verified_at = ?, verification_count = ?, last_application_id = ?, "
                      "region = ?, number_type = ? WHERE developer_id = ? AND phone = ?");
  Statement& s = *s_prepared;
  s.bind(1, row.last_verified_at);
  s.bind(2, row.verification_count);
  s.bind(3, row.last_application_id);
  bind_text(s, 4, row.region);
  bind_text(s, 5, row.number_type);
  s.bind(6, row.developer_id);
  s.bind(7, row.phone);
  s.exec();
}

std::vector<PhoneFactsRow> missing_phone_facts(Connection& db, int limit) {
  return missing_facts_in(db, "identities", limit);
}

void set_phone_facts(Connection& db, const PhoneFactsRow& row) { set_facts_in(db, "identities", row); }

std::vector<IdentityRow> list(Connection& db, const std::string& developer_id,
                              const std::optional<std::string>& before_id, int limit) {
  Prepared q_prepared(db, std::string("SELECT ") + kColumns +
                              " FROM identities WHERE developer_id = ?1 AND (?2 IS NULL OR id < ?2) "
                              "ORDER BY id DESC LIMIT ?3");
  Statement& q = *q_prepared;
  q.bind(1, developer_id);
  bind_text(q, 2, before_id);
  q.bind(3, limit);
  std::vector<IdentityRow> rows;
  while (q.executeStep()) rows.push_back(read_identity(q));
  return rows;
}

}  // namespace identities

namespace events {

EventRow read_row(Statement& q) {
  return EventRow{static_cast<long long>(q.getColumn(0).getInt64()), q.getColumn(1).getString(),
                  q.getColumn(2).getString(), q.getColumn(3).getString(), q.getColumn(4).getString(),
                  text_or_null(q.getColumn(5)), text_or_null(q.getColumn(6)), text_or_null(q.getColumn(7)),
                  q.getColumn(8).getString(), q.getColumn(9).getString()};
}

void insert(Connection& db, EventRow row) {
  if (BatchWrites* batch = pending_writes()) {
    batch->add_event(std::move(row));
  } else {
    insert_events(db, {row});
  }
}

}  // namespace events

namespace retention {

namespace {
// The engine's name for a row's physical address.
std::string row_id(Connection& db) { return db.engine() == Engine::kSqlite ? "rowid" : "ctid"; }
}  // namespace

int purge(Connection& db, const std::string& cutoff, int batch) {
  int removed = 0;
  // The hot history tables have no created_at index (each cost a B-tree insert per row on the
  // OTP path): their keys grow with time (UUIDv7 ids, event seq), so the oldest rows come
  // first in key order. Only the first `batch` rows in that order are looked at, which bounds
  // the work of each pass; a row a few milliseconds out of order waits for the next pass.
  for (const auto& [table, key] : {std::pair{"otp_requests", "id"}, {"inbox_messages", "id"}, {"events", "seq"}}) {
    Prepared s_prepared(db, std::string("DELETE FROM ") + table + " WHERE " + key + " IN (SELECT " + key +
                                " FROM (SELECT " + key + ", created_at FROM " + table + " ORDER BY " + key +
                                " LIMIT ?2) AS oldest WHERE created_at < ?1)");
    Statement& s = *s_prepared;
    s.bind(1, cutoff);
    s.bind(2, batch);
    removed += s.exec();
  }
  const std::string rowid = row_id(db);
  for (const char* table : {"sms_jobs", "webhook_deliveries"}) {
    Prepared s_prepared(db, std::string("DELETE FROM ") + table + " WHERE " + rowid + " IN (SELECT " + rowid +
                                " FROM " + table + " WHERE created_at < ? LIMIT ?)");
    Statement& s = *s_prepared;
    s.bind(1, cutoff);
    s.bind(2, batch);
    removed += s.exec();
  }
  return removed;
}

int purge_stale_state(Connection& db, const std::string& now, const std::string& cutoff, int batch) {
  const std::string rowid = row_id(db);
  Prepared tokens(db, "DELETE FROM refresh_tokens WHERE " + rowid + " IN (SELECT " + rowid +
                          " FROM refresh_tokens WHERE expires_at < ? LIMIT ?)");
  (*tokens).bind(1, now);
  (*tokens).bind(2, batch);
  int removed = (*tokens).exec();
  Prepared failures(db,
                    "DELETE FROM phone_failures WHERE (app_id, phone) IN (SELECT f.app_id, f.phone FROM phone_failures f WHERE "
                    "(f.locked_until IS NULL OR f.locked_until <= ?) AND f.updated_at < ? LIMIT ?)");
  (*failures).bind(1, now);
  (*failures).bind(2, cutoff);
  (*failures).bind(3, batch);
  removed += (*failures).exec();
  return removed;
}

}  // namespace retention

}  // namespace storage
