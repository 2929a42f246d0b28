// Webhooks (SPEC §9): registration, signing, and the engine that fans events out of the outbox
// into deliveries and sends them at least once, with retries and backoff, from a pool of
// threads. The network is behind WebhookTransport. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/accounts.h"
#include "core/applications.h"
#include "core/delivery.h"
#include "core/monitor.h"
#include "core/pagination.h"
#include "core/validation.h"
#include "storage/store.h"
#include "storage/webhooks.h"

namespace core {

// Both signatures of one delivery attempt. With several live secrets (a rotation's grace
// period) each header carries one signature per secret, space-separated, current first.
struct WebhookSignatures {
  std::string cobinar;   // x-cobinar-signature: sha256=<hex HMAC-SHA256(body, key = secret string)>
  std::string standard;  // webhook-signature: v1,<base64 HMAC-SHA256("id.timestamp.body", key = base64-decoded secret)>
};
WebhookSignatures sign_webhook(const std::vector<std::string>& secrets, const std::string& id, long long timestamp,
                               const std::string& body);

struct WebhookHttpRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct WebhookHttpResponse {
  // What the answer means for the delivery; the transport decides, so the core never reads
  // HTTP status numbers.
  enum class Verdict {
    kDelivered,  // any 2xx
    kGone,       // the receiver asked us to stop (410)
    kFailed,     // anything else: retry on schedule
  };
  Verdict verdict = Verdict::kFailed;
  std::optional<int> status_code;  // recorded in the delivery log; nullopt: nothing answered
  std::string error;               // why, when not delivered
  long long duration_ms = 0;
};

class WebhookTransport {
 public:
  virtual ~WebhookTransport() = default;
  virtual WebhookHttpResponse post(const WebhookHttpRequest& request) = 0;
};

struct WebhookOptions {
  bool allow_http = false;     // --webhook-allow-http
  bool allow_private = false;  // --webhook-allow-private
  int workers = 8;             // --webhook-workers (4 fell behind the full-speed flow: bench/RESULTS.md)
  std::vector<std::chrono::seconds> retry_schedule{  // --webhook-retry-schedule: about a day in all
      std::chrono::seconds(5),    std::chrono::seconds(30),   std::chrono::seconds(120),  std::chrono::seconds(600),
      std::chrono::seconds(1800), std::chrono::seconds(3600), std::chrono::seconds(7200), std::chrono::seconds(14400),
      std::chrono::seconds(28800), std::chrono::seconds(28800)};
  std::chrono::seconds timeout{10};  // per delivery attempt
  std::chrono::seconds lease{60};    // a claimed delivery's attempt must end within this
  int claim_batch = 32;              // due deliveries one worker claims in one transaction
};

struct Webhook {
  std::string id;
  std::string app_id;
  std::string url;
  std::vector<std::string> events;
  std::string status;
  std::string created_at;
  std::string updated_at;
};

struct WebhookDelivery {
  std::string id;
  std::string event_id;
  std::string event;
  std::string status;
  int attempts = 0;
  std::optional<int> last_status_code;
  std::optional<std::string> last_error;
  std::optional<long long> last_duration_ms;
  std::string created_at;
  std::optional<std::string> last_attempt_at;
  std::optional<std::string> next_attempt_at;
};

struct TestDelivery {
  bool delivered = false;
  std::optional<int> status_code;
};

// What one delivery attempt came to (for metrics): delivered, failed and scheduled again,
// failed for good (no retry left), or the receiver answered 410 and the webhook was disabled.
enum class WebhookAttemptOutcome { kDelivered, kRetry, kFailed, kGone };

class WebhookEngine {
 public:
  WebhookEngine(storage::Store& db, const Clock& clock, Random& random, ApplicationService& applications,
                WebhookTransport& transport, WebhookOptions options, ComponentMonitor* monitor = nullptr);
  ~WebhookEngine();

  void start();
  void stop();
  void wake();

  // Moves new outbox events into deliveries; returns how many events were read.
  int fan_out();
  // Claims up to options().claim_batch due deliveries in one transaction, attempts them, and
  // records every outcome in one more; false if none was due.
  bool attempt_due();
  // One attempt of `row` now, recorded; the updated row.
  storage::DeliveryRow attempt(storage::DeliveryRow row, bool retry_on_failure);

  const WebhookOptions& options() const { return options_; }
  // Told the outcome of every attempt (on the thread that made it). Set it before start() and
  // before requests are served.
  void set_attempt_observer(std::function<void(WebhookAttemptOutcome)> observer) { observer_ = std::move(observer); }

 private:
  // One attempt's result, not yet written.
  struct Attempted {
    storage::DeliveryRow row;
    std::string webhook_id;
    bool gone = false;  // 410: the webhook is to be disabled
    WebhookAttemptOutcome outcome = WebhookAttemptOutcome::kFailed;
  };

  void loop();
  void serve();
  // A shutdown has begun: a batch puts back what it has not attempted yet.
  bool stop_requested();
  Attempted deliver(storage::DeliveryRow row, const storage::WebhookRow& webhook, const std::vector<std::string>& secrets,
                    bool retry_on_failure);
  // Writes the attempts and puts `released` (claimed, not attempted) back as due now, in one
  // transaction; then tells the monitor and the observer.
  void record(const std::vector<Attempted>& attempts, const std::vector<storage::DeliveryRow>& released);

  storage::Store& db_;
  const Clock& clock_;
  Random& random_;
  ApplicationService& applications_;
  WebhookTransport& transport_;
  WebhookOptions options_;
  ComponentMonitor* monitor_;
  std::function<void(WebhookAttemptOutcome)> observer_;
  std::mutex mutex_;
  std::mutex fan_out_mutex_;
  std::condition_variable wakeup_;
  bool stopping_ = false;
  std::uint64_t wake_count_ = 0;
  std::vector<std::thread> threads_;
};

class WebhookService {
 public:
  WebhookService(storage::Store& db, const Clock& clock, Random& random, WebhookEngine& engine)
      : db_(db), clock_(clock), random_(random), engine_(engine) {}

  Result<Page<Webhook>> list(const Developer& owner, const std::optional<std::string>& app_id, const PageRequest& page);
  Result<Webhook> create(const Developer& owner, const nlohmann::json& body);
  Result<Webhook> get(const Developer& owner, const std::string& id);
  Result<Webhook> update(const Developer& owner, const std::string& id, const nlohmann::json& body);
  Status remove(const Developer& owner, const std::string& id);
  Result<TestDelivery> send_test(const Developer& owner, const std::string& id);
  Result<Page<WebhookDelivery>> deliveries(const Developer& owner, const std::string& id, const PageRequest& page);
  Result<WebhookDelivery> retry(const Developer& owner, const std::string& id, const std::string& delivery_id);

 private:
  void check_url(FieldReader& fields, const std::optional<std::string>& url) const;

  storage::Store& db_;
  const Clock& clock_;
  Random& random_;
  WebhookEngine& engine_;
};

// The event names a webhook may subscribe to (the reserved ones included).
const std::vector<std::string>& webhook_event_names();

}  // namespace core
