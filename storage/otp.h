// OTP requests, phone failure counters, the SMS queue, inbox messages, identities and the
// event outbox: SQL only, no policy. Functions run on the caller's connection (inside
// Database::read / Database::write); not thread-safe by themselves.
#pragma once

#include "storage/sql.h"


#include <optional>
#include <string>
#include <vector>

namespace storage {

// A request's code shape as stored: NULL columns read as these (the shape before per-app
// policies, and still the common one).
constexpr int kDefaultCodeLength = 6;
constexpr char kDefaultCodeAlphabet[] = "digits";
constexpr int kDefaultMaxAttempts = 5;

struct OtpRow {
  std::string id;
  std::string app_id;
  std::string developer_id;
  std::string phone;
  std::string status;
  std::optional<std::string> failure_reason;
  std::optional<std::string> code_hash;
  int attempts = 0;
  std::string delivery_status;
  std::string created_at;
  std::string expires_at;
  std::optional<std::string> verified_at;
  std::string updated_at;
  // What the number is (SPEC §14) and the policy in force at the send (§15); rows written
  // before migration 10 read NULL number facts (backfilled) and the old fixed shape.
  std::optional<std::string> region{};
  std::optional<std::string> number_type{};
  int code_length = 6;
  std::string code_alphabet = "digits";
  int max_attempts = 5;
  std::optional<std::string> locale{};
  std::optional<std::string> nonce{};  // SPEC §16: copied into the receipt
};

// A row whose number facts are not recorded yet, and what they are.
struct PhoneFactsRow {
  std::string key;    // otp_requests.id, or identities.id
  std::string phone;  // E.164
  std::optional<std::string> region{};
  std::string number_type;
};

struct OtpFilter {
  std::optional<std::string> app_id;
  std::optional<std::string> status;  // as read: a pending request past expires_at counts as expired
  std::string now;
  std::optional<std::string> before_id;
  int limit = 50;
};

namespace otp {

void insert(Connection& db, const OtpRow& row);
std::optional<OtpRow> find(Connection& db, const std::string& id);
std::vector<OtpRow> list(Connection& db, const std::string& developer_id, const OtpFilter& filter);
std::vector<OtpRow> pending(Connection& db, const std::string& app_id, const std::string& phone);
// Up to `limit` pending requests whose TTL ended at or before `now` (for the expiry sweep).
std::vector<OtpRow> pending_expired(Connection& db, const std::string& now, int limit);
// Writes status, failure_reason, code_hash, attempts, delivery_status, verified_at, updated_at.
void update(Connection& db, const OtpRow& row);
void set_delivery_status(Connection& db, const std::string& id, const std::string& delivery_status);
// Up to `limit` requests without number facts (a partial index keeps this cheap once done).
std::vector<PhoneFactsRow> missing_phone_facts(Connection& db, int limit);
void set_phone_facts(Connection& db, const PhoneFactsRow& row);

}  // namespace otp

struct PhoneFailures {
  int consecutive = 0;
  std::optional<std::string> locked_until;
  std::optional<std::string> updated_at{};  // the last wrong code; retention forgets the row after it
};

namespace phone_failures {

std::optional<PhoneFailures> get(Connection& db, const std::string& app_id, const std::string& phone);
void put(Connection& db, const std::string& app_id, const std::string& phone, const PhoneFailures& value);

// Back to no failures: the row goes (a phone without a row has none).
void clear(Connection& db, const std::string& app_id, const std::string& phone);
}  // namespace phone_failures

struct SmsJobRow {
  long long id = 0;
  std::string request_id;
  std::string app_id;
  std::string app_name;
  std::string phone;
  std::string driver;
  std::optional<std::string> message_box;
  std::optional<std::string> code_box;
  std::string status;
  int attempts = 0;
  std::string next_attempt_at;
  std::optional<std::string> last_error;
  std::string created_at;
};

namespace sms_jobs {

void insert(Connection& db, const SmsJobRow& row);
// Leases up to `limit` queued jobs due at `now` by moving their next attempt to `lease_until`
// (a worker that dies mid-flight only delays them), oldest first.
std::vector<SmsJobRow> claim_due(Connection& db, const std::string& now, const std::string& lease_until, int limit);
// Whether any queued job is due at `now` (a read, before claiming with a write).
bool any_due(Connection& db, const std::string& now);
// Writes status, attempts, next_attempt_at, last_error and the boxes.
void update(Connection& db, const SmsJobRow& row);
void erase_message(Connection& db, const std::string& request_id);

}  // namespace sms_jobs

struct InboxRow {
  std::string id;
  std::string request_id;
  std::string app_id;
  std::string developer_id;
  std::string phone;
  std::optional<std::string> message_box;  // nullopt = erased
  std::string created_at;
  // Of the OTP request, joined in by list(): whether its code may still be shown.
  std::string request_status;
  std::string request_expires_at;
};

namespace inbox {

void insert(Connection& db, const InboxRow& row);
std::vector<InboxRow> list(Connection& db, const std::string& developer_id, const std::optional<std::string>& app_id,
                           const std::optional<std::string>& phone, const std::optional<std::string>& before_id,
                           int limit);
void erase_text(Connection& db, const std::string& request_id);

}  // namespace inbox

struct IdentityRow {
  std::string developer_id;
  std::string phone;
  std::string id;
  std::string created_at;
  std::string last_verified_at;
  int verification_count = 0;
  std::string last_application_id;
  std::optional<std::string> region{};
  std::optional<std::string> number_type{};
};

namespace identities {

std::optional<IdentityRow> find(Connection& db, const std::string& developer_id, const std::string& phone);
void insert(Connection& db, const IdentityRow& row);
void update(Connection& db, const IdentityRow& row);
std::vector<IdentityRow> list(Connection& db, const std::string& developer_id,
                              const std::optional<std::string>& before_id, int limit);
// Up to `limit` identities without number facts, keyed by identities.id.
std::vector<PhoneFactsRow> missing_phone_facts(Connection& db, int limit);
void set_phone_facts(Connection& db, const PhoneFactsRow& row);

}  // namespace identities

struct EventRow {
  long long seq = 0;
  std::string id;
  std::string type;
  std::string developer_id;
  std::string app_id;
  std::optional<std::string> request_id;
  std::optional<std::string> phone;
  std::optional<std::string> status;
  std::string payload;  // JSON
  std::string created_at;
};

namespace events {

// The columns read_row() expects, in order, for SELECTs on the events table.
inline constexpr char kColumns[] = "seq, id, type, developer_id, app_id, request_id, phone, status, payload, created_at";
EventRow read_row(Statement& query);

// Appends an event; inside a write job, with the batch's other events just before COMMIT (so
// the job cannot read it back, and its seq is not known yet).
void insert(Connection& db, EventRow row);

}  // namespace events

namespace retention {

// Deletes up to `batch` rows older than `cutoff` from each history table; returns how many.
int purge(Connection& db, const std::string& cutoff, int batch);
// Deletes up to `batch` refresh tokens past their expiry (used, revoked or not: none can sign
// in any more) and `phone_failures` rows that are not locked at `now` and whose phone has no
// OTP request left (retention removed its history); returns how many.
// Expired refresh tokens, and failure counters neither locked nor updated since `cutoff` (a
// scan of phone_failures alone: its plan does not grow with the OTP history).
int purge_stale_state(Connection& db, const std::string& now, const std::string& cutoff, int batch);

}  // namespace retention

}  // namespace storage
