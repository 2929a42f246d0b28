#include "storage/webhooks.h"

#include <algorithm>


#include "storage/sql.h"
#include "storage/sql.h"

namespace storage {

namespace {

constexpr char kWebhookColumns[] = "id, developer_id, app_id, url, events, status, created_at, updated_at";

WebhookRow read_webhook(Statement& q) {
  return WebhookRow{q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                    q.getColumn(3).getString(), q.getColumn(4).getString(), q.getColumn(5).getString(),
                    q.getColumn(6).getString(), q.getColumn(7).getString()};
}

constexpr char kDeliveryColumns[] =
    "id, webhook_id, event_id, event, body, status, attempts, last_status_code, last_error, last_duration_ms, "
    "created_at, last_attempt_at, next_attempt_at";

DeliveryRow read_delivery(Statement& q) {
  DeliveryRow row;
  row.id = q.getColumn(0).getString();
  row.webhook_id = q.getColumn(1).getString();
  row.event_id = q.getColumn(2).getString();
  row.event = q.getColumn(3).getString();
  row.body = q.getColumn(4).getString();
  row.status = q.getColumn(5).getString();
  row.attempts = q.getColumn(6).getInt();
  if (!q.getColumn(7).isNull()) row.last_status_code = q.getColumn(7).getInt();
  row.last_error = text_or_null(q.getColumn(8));
  if (!q.getColumn(9).isNull()) row.last_duration_ms = static_cast<long long>(q.getColumn(9).getInt64());
  row.created_at = q.getColumn(10).getString();
  row.last_attempt_at = text_or_null(q.getColumn(11));
  row.next_attempt_at = text_or_null(q.getColumn(12));
  return row;
}

}  // namespace

// Claims of other transactions (other workers, other nodes) are passed over, not waited for.
static std::string skip_locked(Connection& db) { return db.engine() == Engine::kPostgres ? " FOR UPDATE SKIP LOCKED" : ""; }

namespace webhooks {

void insert(Connection& db, const WebhookRow& row) {
  Prepared s_prepared(db, std::string("INSERT INTO webhooks(") + kWebhookColumns + ") VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
  Statement& s = *s_prepared;
  s.bind(1, row.id);
  s.bind(2, row.developer_id);
  s.bind(3, row.app_id);
  s.bind(4, row.url);
  s.bind(5, row.events);
  s.bind(6, row.status);
  s.bind(7, row.created_at);
  s.bind(8, row.updated_at);
  s.exec();
}

std::optional<WebhookRow> find(Connection& db, const std::string& developer_id, const std::string& id) {
  Prepared q_prepared(db, std::string("SELECT ") + kWebhookColumns + " FROM webhooks WHERE developer_id = ? AND id = ?");
  Statement& q = *q_prepared;
  q.bind(1, developer_id);
  q.bind(2, id);
  if (!q.executeStep()) return std::nullopt;
  return read_webhook(q);
}

std::optional<WebhookRow> find_any(Connection& db, const std::string& id) {
  Prepared q_prepared(db, std::string("SELECT ") + kWebhookColumns + " FROM webhooks WHERE id = ?");
  Statement& q = *q_prepared;
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  return read_webhook(q);
}

std::vector<WebhookRow> list(Connection& db, const std::string& developer_id,
                             const std::optional<std::string>& app_id, const std::optional<std::string>& before_id,
                             int limit) {
  Prepared q_prepared(db, std::string("SELECT ") + kWebhookColumns +
                              " FROM webhooks WHERE developer_id = ?1 AND (?2 IS NULL OR app_id = ?2) "
                              "AND (?3 IS NULL OR id < ?3) ORDER BY id DESC LIMIT ?4");
  Statement& q = *q_prepared;
  q.bind(1, developer_id);
  bind_text(q, 2, app_id);
  bind_text(q, 3, before_id);
  q.bind(4, limit);
  std::vector<WebhookRow> rows;
  while (q.executeStep()) rows.push_back(read_webhook(q));
  return rows;
}

bool any_enabled(Connection& db) {
  Prepared q_prepared(db, "SELECT EXISTS(SELECT 1 FROM webhooks WHERE status = 'enabled')");
  Statement& q = *q_prepared;
  return q.executeStep() && q.getColumn(0).getInt() == 1;
}

std::vector<WebhookRow> enabled_for_app(Connection& db, const std::string& app_id) {
  Prepared q_prepared(db, std::string("SELECT ") + kWebhookColumns +
                              " FROM webhooks WHERE app_id = ? AND status = 'enabled' ORDER BY id");
  Statement& q = *q_prepared;
  q.bind(1, app_id);
  std::vector<WebhookRow> rows;
  while (q.executeStep()) rows.push_back(read_webhook(q));
  return rows;
}

void update(Connection& db, const WebhookRow& row) {
  Prepared s_prepared(db, "UPDATE webhooks SET url = ?, events = ?, status = ?, updated_at = ? WHERE id = ?");
  Statement& s = *s_prepared;
  s.bind(1, row.url);
  s.bind(2, row.events);
  s.bind(3, row.status);
  s.bind(4, row.updated_at);
  s.bind(5, row.id);
  s.exec();
}

void remove(Connection& db, const std::string& developer_id, const std::string& id) {
  Prepared s_prepared(db, "DELETE FROM webhooks WHERE developer_id = ? AND id = ?");
  Statement& s = *s_prepared;
  s.bind(1, developer_id);
  s.bind(2, id);
  s.exec();
}

}  // namespace webhooks

namespace deliveries {

void insert(Connection& db, const DeliveryRow& row) {
  Prepared s_prepared(db, std::string("INSERT INTO webhook_deliveries(") + kDeliveryColumns +
                              ") VALUES(?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, NULL, ?)");
  Statement& s = *s_prepared;
  s.bind(1, row.id);
  s.bind(2, row.webhook_id);
  s.bind(3, row.event_id);
  s.bind(4, row.event);
  s.bind(5, row.body);
  s.bind(6, row.status);
  s.bind(7, row.attempts);
  s.bind(8, row.created_at);
  bind_text(s, 9, row.next_attempt_at);
  s.exec();
}

std::optional<DeliveryRow> find(Connection& db, const std::string& webhook_id, const std::string& id) {
  Prepared q_prepared(db, std::string("SELECT ") + kDeliveryColumns +
                              " FROM webhook_deliveries WHERE webhook_id = ? AND id = ?");
  Statement& q = *q_prepared;
  q.bind(1, webhook_id);
  q.bind(2, id);
  if (!q.executeStep()) return std::nullopt;
  return read_delivery(q);
}

std::vector<DeliveryRow> list(Connection& db, const std::string& webhook_id,
                              const std::optional<std::string>& before_id, int limit) {
  Prepared q_prepared(db, std::string("SELECT ") + kDeliveryColumns +
                              " FROM webhook_deliveries WHERE webhook_id = ?1 AND (?2 IS NULL OR id < ?2) "
                              "ORDER BY id DESC LIMIT ?3");
  Statement& q = *q_prepared;
  q.bind(1, webhook_id);
  bind_text(q, 2, before_id);
  q.bind(3, limit);
  std::vector<DeliveryRow> rows;
  while (q.executeStep()) rows.push_back(read_delivery(q));
  return rows;
}

std::vector<DeliveryRow> claim_due(Connection& db, const std::string& now, const std::string& lease_until,
                                   int limit) {
  Prepared q_prepared(db, std::string("UPDATE webhook_deliveries SET next_attempt_at = ?2 WHERE id IN (") +
                              "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?1 "
                              "ORDER BY next_attempt_at LIMIT ?3" + skip_locked(db) + ") RETURNING " + kDeliveryColumns);
  Statement& q = *q_prepared;
  q.bind(1, now);
  q.bind(2, lease_until);
  q.bind(3, limit);
  std::vector<DeliveryRow> rows;
  while (q.executeStep()) rows.push_back(read_delivery(q));
  // RETURNING gives no order; ids are time-ordered, so this attempts the oldest first.
  std::sort(rows.begin(), rows.end(), [](const DeliveryRow& a, const DeliveryRow& b) { return a.id < b.id; });
  return rows;
}

std::optional<std::string> next_due_at(Connection& db) {
  Prepared q_prepared(db, "SELECT min(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending'");
  Statement& q = *q_prepared;
  q.executeStep();
  return text_or_null(q.getColumn(0));
}

void update(Connection& db, const DeliveryRow& row) {
  Prepared s_prepared(db,
                      "UPDATE webhook_deliveries SET status = ?, attempts = ?, last_status_code = ?, last_error = ?, "
                      "last_duration_ms = ?, last_attempt_at = ?, next_attempt_at = ? WHERE id = ?");
  Statement& s = *s_prepared;
  s.bind(1, row.status);
  s.bind(2, row.attempts);
  if (row.last_status_code) {
    s.bind(3, *row.last_status_code);
  } else {
    s.bind(3);
  }
  bind_text(s, 4, row.last_error);
  if (row.last_duration_ms) {
    s.bind(5, static_cast<int64_t>(*row.last_duration_ms));
  } else {
    s.bind(5);
  }
  bind_text(s, 6, row.last_attempt_at);
  bind_text(s, 7, row.next_attempt_at);
  s.bind(8, row.id);
  s.exec();
}

}  // namespace deliveries

namespace outbox {

long long cursor(Connection& db, const std::string& name) {
  Prepared q_prepared(db, "SELECT seq FROM outbox_cursors WHERE name = ?");
  Statement& q = *q_prepared;
  q.bind(1, name);
  if (!q.executeStep()) return 0;
  return static_cast<long long>(q.getColumn(0).getInt64());
}

void set_cursor(Connection& db, const std::string& name, long long seq) {
  Prepared s_prepared(db,
                      "INSERT INTO outbox_cursors(name, seq) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET seq = excluded.seq");
  Statement& s = *s_prepared;
  s.bind(1, name);
  s.bind(2, static_cast<int64_t>(seq));
  s.exec();
}

long long settled(Store& store) {
  if (store.engine() == Engine::kSqlite) return kAnySeq;
  return store.write([](Connection& c) {
    c.exec("SELECT pg_advisory_xact_lock(hashtextextended('cobinar-phone:events', 0))");
    return latest(c);
  });
}

std::vector<EventRow> after(Connection& db, long long seq, int limit, long long up_to) {
  Prepared q_prepared(db, std::string("SELECT ") + events::kColumns +
                              " FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?");
  Statement& q = *q_prepared;
  q.bind(1, static_cast<long long>(seq));
  q.bind(2, up_to);
  q.bind(3, limit);
  std::vector<EventRow> rows;
  while (q.executeStep()) rows.push_back(events::read_row(q));
  return rows;
}

long long latest(Connection& db) {
  Prepared q_prepared(db, "SELECT coalesce(max(seq), 0) FROM events");
  Statement& q = *q_prepared;
  return q.executeStep() ? q.getColumn(0).getInt64() : 0;
}

}  // namespace outbox

}  // namespace storage
