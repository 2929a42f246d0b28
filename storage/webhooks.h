// Webhooks, their deliveries and the outbox fan-out cursor: SQL only. Functions run on the
// caller's connection; not thread-safe by themselves.
#pragma once

#include "storage/sql.h"
#include "storage/store.h"


#include <optional>
#include <string>
#include <vector>

#include "storage/otp.h"

namespace storage {

struct WebhookRow {
  std::string id;
  std::string developer_id;
  std::string app_id;
  std::string url;
  std::string events;  // JSON array
  std::string status;
  std::string created_at;
  std::string updated_at;
};

struct DeliveryRow {
  std::string id;
  std::string webhook_id;
  std::string event_id;
  std::string event;
  std::string body;
  std::string status;
  int attempts = 0;
  std::optional<int> last_status_code;
  std::optional<std::string> last_error;
  std::optional<long long> last_duration_ms;
  std::string created_at;
  std::optional<std::string> last_attempt_at;
  std::optional<std::string> next_attempt_at;
};

namespace webhooks {

void insert(Connection& db, const WebhookRow& row);
std::optional<WebhookRow> find(Connection& db, const std::string& developer_id, const std::string& id);
std::optional<WebhookRow> find_any(Connection& db, const std::string& id);
std::vector<WebhookRow> list(Connection& db, const std::string& developer_id,
                             const std::optional<std::string>& app_id, const std::optional<std::string>& before_id,
                             int limit);
// Whether any application has an enabled webhook at all.
bool any_enabled(Connection& db);
std::vector<WebhookRow> enabled_for_app(Connection& db, const std::string& app_id);
void update(Connection& db, const WebhookRow& row);
void remove(Connection& db, const std::string& developer_id, const std::string& id);

}  // namespace webhooks

namespace deliveries {

void insert(Connection& db, const DeliveryRow& row);
std::optional<DeliveryRow> find(Connection& db, const std::string& webhook_id, const std::string& id);
std::vector<DeliveryRow> list(Connection& db, const std::string& webhook_id,
                              const std::optional<std::string>& before_id, int limit);
// Up to `limit` of the earliest due pending deliveries, leased until `lease_until` (their
// next_attempt_at), oldest first; empty if none is due.
std::vector<DeliveryRow> claim_due(Connection& db, const std::string& now, const std::string& lease_until,
                                   int limit);
std::optional<std::string> next_due_at(Connection& db);
// Writes status, attempts, last_*, next_attempt_at.
void update(Connection& db, const DeliveryRow& row);

}  // namespace deliveries

namespace outbox {

inline constexpr long long kAnySeq = 0x7fffffffffffffffLL;

// The highest seq below which no event can still appear: every transaction that drew a
// smaller seq has ended. With SQLite (one writer) any seq; with PostgreSQL a transaction
// waits until the transactions that insert events have ended (they hold a shared lock that
// this one takes exclusively) and reads the latest seq, so the fan-out never passes an event
// that a slower transaction commits later.
long long settled(Store& store);

long long cursor(Connection& db, const std::string& name);
void set_cursor(Connection& db, const std::string& name, long long seq);
std::vector<EventRow> after(Connection& db, long long seq, int limit, long long up_to = kAnySeq);
// The newest event's seq (0 when there is none).
long long latest(Connection& db);

}  // namespace outbox

}  // namespace storage
