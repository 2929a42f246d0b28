// The OTP engine (SPEC §7, §8): send and verify with their limits, the reads of the console,
// the inbox, and identities. Every state change appends its events in the same transaction.
// Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/abuse_guard.h"
#include "core/accounts.h"
#include "core/applications.h"
#include "core/pagination.h"
#include "core/phone.h"
#include "core/policy.h"
#include "core/rate_limiter.h"
#include "core/receipts.h"
#include "storage/store.h"

namespace core {

struct OtpOptions {
  std::chrono::seconds ttl{300};              // --otp-ttl-seconds: the default policy's TTL
  int send_rate_limit = 5;                    // --send-rate-limit, per application per minute
  int verify_rate_limit = 10;                 // --verify-rate-limit, per application per minute
  int phone_send_limit = 3;                   // --phone-send-limit, per phone and application per 10 min
  int phone_failure_limit = 15;               // --phone-failure-limit, consecutive wrong codes
  std::chrono::seconds phone_lock{3600};      // how long the phone is locked after that
  std::string sms_driver;                     // --sms-driver for real numbers of live apps; empty = none
  std::string message_template = kDefaultTemplate;  // --sms-template: the default policy's "en" template
  AllowedPrefixes phone_allow_prefixes;             // --phone-allow-prefix
};

struct OtpRequest {
  std::string id;
  std::string app_id;
  std::string phone;   // E.164
  std::string status;  // as read: pending past its TTL is expired
  int attempts = 0;
  std::string delivery_status;
  std::string created_at;
  std::string expires_at;
  std::optional<std::string> verified_at;
  std::optional<std::string> region{};  // SPEC §14
  std::string number_type{};
  int code_length = 6;  // the policy in force at the send (§15)
  std::string code_alphabet = "digits";
  std::optional<std::string> locale{};
};

// A verification and its signed receipt (SPEC §16).
struct Verification {
  OtpRequest request;
  std::optional<Receipt> receipt;  // unset only when no signer is configured (unit tests)
};

struct SendResult {
  OtpRequest request;
  std::optional<std::string> test_code;  // test applications only
};

struct InboxMessage {
  std::string id;
  std::string app_id;
  std::string request_id;
  std::string phone;
  std::string message;  // "[expired]" once the OTP left pending
  std::string created_at;
};

struct Identity {
  std::string phone;
  std::string created_at;
  std::string last_verified_at;
  int verification_count = 0;
  std::string last_application_id;
  std::optional<std::string> region{};
  std::string number_type{};
};

class OtpService {
 public:
  // `job_queued` is called after a send queued an SMS for a delivery driver,
  // `events_written` after a transaction that appended events.
  OtpService(storage::Store& db, const Clock& clock, Random& random, const ServerKey& key, OtpOptions options,
             std::function<void()> job_queued = nullptr, std::function<void()> events_written = nullptr);

  Result<SendResult> send(const Application& app, const nlohmann::json& body);
  Result<Verification> verify(const Application& app, const nlohmann::json& body);
  // Receipts for verifications; without one a verification carries none. Call before serving.
  void sign_receipts_with(ReceiptSigner* signer) { receipts_ = signer; }
  // The abuse controls (SPEC §17); without a guard no send is screened. `on_blocked` is told
  // the rule of every refusal (for metrics). Call before serving.
  void guard_abuse_with(AbuseGuard* guard, std::function<void(BlockRule)> on_blocked = nullptr) {
    abuse_ = guard;
    on_blocked_ = std::move(on_blocked);
  }

  Result<Page<OtpRequest>> list(const Developer& owner, const std::optional<std::string>& app_id,
                                const std::optional<std::string>& status, const PageRequest& page);
  Result<OtpRequest> get(const Developer& owner, const std::string& id);
  Result<Page<InboxMessage>> inbox(const Developer& owner, const std::optional<std::string>& app_id,
                                   const std::optional<std::string>& phone, const PageRequest& page);
  Result<Page<Identity>> identities(const Developer& owner, const PageRequest& page);
  Result<Identity> identity(const std::string& developer_id, const std::string& phone);
  // GET /v1/phone-numbers/:number (SPEC §14): an invalid number is an answer, not an error.
  Result<PhoneInfo> lookup_phone(const std::string& number, const std::optional<std::string>& region) const;

  // Deletes history older than the retention period, in small batches; returns rows removed.
  int purge_history(std::chrono::days retention);
  // Closes pending requests past their TTL: status `expired`, code hash, inbox text and queued
  // message erased (SPEC §7). No event: otp.expired marks the first verify after the TTL.
  // Returns how many were closed.
  int expire_overdue();
  // Records region and number type on rows written before migration 10, in batches of
  // `batch` (parsed outside the write transaction), at most `max_batches` writes per call;
  // returns rows updated.
  int backfill_phone_facts(int batch = 200, int max_batches = 5);

  const OtpOptions& options() const { return options_; }

 private:
  std::string code_hash(const std::string& request_id, std::string_view code) const;
  Status check_app_filter(const Developer& owner, const std::optional<std::string>& app_id);
  // SPEC §17 for a non-exempt send: the ticket of an admitted send, or the refusal (its event
  // written, the block stored).
  Result<std::optional<AbuseTicket>> screen_send(const Application& app, const OtpPolicy& policy,
                                                 const PhoneInfo& phone, const std::string& request_id);
  Error refuse_send(const Application& app, const PhoneInfo& phone, BlockRule rule, const Admission& admission,
                    TimePoint now);

  storage::Store& db_;
  const Clock& clock_;
  Random& random_;
  OtpOptions options_;
  OtpPolicy default_policy_;
  std::function<void()> job_queued_;
  std::function<void()> events_written_;
  ReceiptSigner* receipts_ = nullptr;
  AbuseGuard* abuse_ = nullptr;
  std::function<void(BlockRule)> on_blocked_;
  ServerKey::Bytes code_key_;
  ServerKey::Bytes message_key_;
  std::unique_ptr<RateLimit> send_by_app_;
  std::unique_ptr<RateLimit> send_by_phone_;
  std::unique_ptr<RateLimit> verify_by_app_;
};

}  // namespace core
