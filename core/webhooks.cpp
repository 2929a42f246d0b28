#include "core/webhooks.h"

#include <sodium.h>

#include <unordered_map>
#include <unordered_set>

#include "core/ids.h"
#include "core/net_guard.h"
#include "core/jwt.h"
#include "storage/applications.h"
#include "storage/locks.h"

namespace core {

namespace {

constexpr char kCursorName[] = "webhooks";
constexpr std::size_t kMaxUrl = 2048;

Error webhook_not_found() { return Error::not_found("Webhook not found."); }

std::string hmac_sha256(std::string_view key, std::string_view message) {
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()), message.size());
  crypto_auth_hmacsha256_final(&state, mac.data());
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

std::string base64_standard(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
  return out;
}

// The Standard Webhooks key: the base64 decoding of the secret after "whsec_".
std::string standard_key(const std::string& secret) {
  const std::string encoded = secret.starts_with("whsec_") ? secret.substr(6) : secret;
  std::string out(encoded.size(), '\0');
  std::size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), encoded.data(), encoded.size(),
                        nullptr, &length, nullptr, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 &&
      sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), encoded.data(), encoded.size(),
                        nullptr, &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return encoded;
  }
  out.resize(length);
  return out;
}

Webhook from_row(const storage::WebhookRow& row) {
  auto events = nlohmann::json::parse(row.events, nullptr, false);
  std::vector<std::string> names;
  if (events.is_array()) {
    for (const auto& e : events) {
      if (e.is_string()) names.push_back(e.get<std::string>());
    }
  }
  return Webhook{row.id, row.app_id, row.url, names, row.status, row.created_at, row.updated_at};
}

WebhookDelivery from_row(const storage::DeliveryRow& row) {
  return WebhookDelivery{row.id,         row.event_id,        row.event,           row.status,
                         row.attempts,   row.last_status_code, row.last_error,     row.last_duration_ms,
                         row.created_at, row.last_attempt_at, row.status == "pending" ? row.next_attempt_at : std::nullopt};
}

bool subscribed(const storage::WebhookRow& webhook, const std::string& event) {
  const auto events = nlohmann::json::parse(webhook.events, nullptr, false);
  if (!events.is_array()) return false;
  for (const auto& e : events) {
    if (e == event) return true;
  }
  return false;
}

std::string delivery_body(const std::string& id, const std::string& event, const std::string& created_at,
                          const nlohmann::json& payload) {
  // Key order is fixed so the signed bytes are stable and readable.
  return R"({"id":)" + nlohmann::json(id).dump() + R"(,"event":)" + nlohmann::json(event).dump() +
         R"(,"createdAt":)" + nlohmann::json(created_at).dump() + R"(,"payload":)" + payload.dump() + "}";
}

}  // namespace

const std::vector<std::string>& webhook_event_names() {
  static const std::vector<std::string> names = {"otp.created",      "otp.verified",     "otp.failed",
                                                 "otp.expired",      "otp.blocked",      "identity.created", "identity.updated",
                                                 "application.created", "application.deleted"};
  return names;
}

WebhookSignatures sign_webhook(const std::vector<std::string>& secrets, const std::string& id, long long timestamp,
                               const std::string& body) {
  WebhookSignatures signatures;
  const std::string signed_content = id + "." + std::to_string(timestamp) + "." + body;
  for (const auto& secret : secrets) {
    const std::string mac = hmac_sha256(secret, body);
    signatures.cobinar += (signatures.cobinar.empty() ? "" : " ") + std::string("sha256=") +
                          hex_encode(std::span(reinterpret_cast<const std::uint8_t*>(mac.data()), mac.size()));
    signatures.standard += (signatures.standard.empty() ? "" : " ") + std::string("v1,") +
                           base64_standard(hmac_sha256(standard_key(secret), signed_content));
  }
  return signatures;
}

// ---------------------------------------------------------------------------------------
// Engine

WebhookEngine::WebhookEngine(storage::Store& db, const Clock& clock, Random& random, ApplicationService& applications,
                             WebhookTransport& transport, WebhookOptions options, ComponentMonitor* monitor)
    : db_(db),
      clock_(clock),
      random_(random),
      applications_(applications),
      transport_(transport),
      options_(std::move(options)),
      monitor_(monitor) {}

WebhookEngine::~WebhookEngine() { stop(); }

void WebhookEngine::start() {
  if (!threads_.empty()) return;
  for (int i = 0; i < std::max(1, options_.workers); ++i) threads_.emplace_back([this] { loop(); });
}

void WebhookEngine::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wakeup_.notify_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

bool WebhookEngine::stop_requested() {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void WebhookEngine::wake() {
  {
    std::lock_guard lock(mutex_);
    ++wake_count_;
  }
  // One worker is enough to fan out; it wakes the others when there is something to send.
  wakeup_.notify_one();
}

void WebhookEngine::loop() {
  try {
    serve();
  } catch (...) {
    // Not expected (every pass catches its own errors); the health report must show it.
    if (monitor_) monitor_->failed("webhooks", "died", "a webhook delivery worker stopped", Impact::kDegraded);
  }
}

void WebhookEngine::serve() {
  while (true) {
    std::uint64_t seen = 0;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      seen = wake_count_;
    }
    try {
      int fanned = 0;
      for (int read = fan_out(); read > 0; read = fan_out()) fanned += read;
      if (fanned > 0) wakeup_.notify_all();
      while (attempt_due()) {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
      }
    } catch (const std::exception& e) {
      if (monitor_) monitor_->failed("webhooks", "pass_failed", e.what());
    }
    std::unique_lock lock(mutex_);
    // Polls every second: retries come due by the clock, which nobody signals.
    wakeup_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_ || wake_count_ != seen; });
    if (stopping_) return;
    // Let the events of concurrent requests gather, so one transaction fans out many.
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int WebhookEngine::fan_out() {
  // One fan-out at a time; the cursor moves in the same transaction as the inserts, so every
  // event becomes its deliveries exactly once, across crashes too.
  std::lock_guard fan_out_lock(fan_out_mutex_);
  // A read first: most passes find nothing new and must not queue a write job for that.
  const bool pending = db_.read([&](storage::Connection& c) {
    return !storage::outbox::after(c, storage::outbox::cursor(c, kCursorName), 1).empty();
  });
  if (!pending) return 0;
  const std::string now = format_timestamp(clock_.now());
  // Events past it may still be in flight on another connection (PostgreSQL). Finding out
  // waits for every transaction that writes events, so only when someone listens.
  const bool listened = db_.read([](storage::Connection& c) { return storage::webhooks::any_enabled(c); });
  const long long settled = listened ? storage::outbox::settled(db_) : storage::outbox::kAnySeq;
  return db_.write([&](storage::Connection& c) {
    // One fan-out at a time across nodes too (the mutex above serves this process).
    storage::locks::exclusive(c, "outbox:fan-out");
    const long long cursor = storage::outbox::cursor(c, kCursorName);
    if (!storage::webhooks::any_enabled(c)) {
      // Nobody listens: move past every event without reading them (read, they would have
      // been delivered to nobody either).
      const long long latest = std::min(storage::outbox::latest(c), settled);
      if (latest > cursor) storage::outbox::set_cursor(c, kCursorName, latest);
      return 0;
    }
    const auto events = storage::outbox::after(c, cursor, 200, settled);
    std::unordered_map<std::string, std::vector<storage::WebhookRow>> hooks_of_app;
    for (const auto& event : events) {
      auto hooks = hooks_of_app.find(event.app_id);
      if (hooks == hooks_of_app.end()) {
        hooks = hooks_of_app.emplace(event.app_id, storage::webhooks::enabled_for_app(c, event.app_id)).first;
      }
      for (const auto& webhook : hooks->second) {
        if (!subscribed(webhook, event.type)) continue;
        const auto payload = nlohmann::json::parse(event.payload, nullptr, false);
        storage::DeliveryRow row;
        row.id = new_id(clock_, random_);
        row.webhook_id = webhook.id;
        row.event_id = event.id;
        row.event = event.type;
        row.body = delivery_body(event.id, event.type, event.created_at, payload);
        row.status = "pending";
        row.created_at = now;
        row.next_attempt_at = now;
        storage::deliveries::insert(c, row);
      }
    }
    if (!events.empty()) storage::outbox::set_cursor(c, kCursorName, events.back().seq);
    return static_cast<int>(events.size());
  });
}

bool WebhookEngine::attempt_due() {
  const TimePoint now = clock_.now();
  const auto next_due = db_.read([](storage::Connection& c) { return storage::deliveries::next_due_at(c); });
  if (!next_due || *next_due > format_timestamp(now)) return false;
  const auto claimed = db_.write([&](storage::Connection& c) {
    return storage::deliveries::claim_due(c, format_timestamp(now), format_timestamp(now + options_.lease),
                                          std::max(1, options_.claim_batch));
  });
  if (claimed.empty()) return false;

  // A slow receiver must not hold the rest of the batch past its lease (another worker would
  // then claim them too): attempts start only while one more timeout still fits in the lease.
  const TimePoint start_by = now + options_.lease - options_.timeout - std::chrono::seconds(5);
  std::unordered_map<std::string, std::optional<storage::WebhookRow>> webhooks;
  std::unordered_map<std::string, std::vector<std::string>> secrets_of_app;
  // A receiver that just failed (down, slow, answering errors) gets no more of this batch: the
  // rest of its deliveries go back to the queue, so they wait neither behind it nor for it.
  std::unordered_set<std::string> failing;
  std::vector<Attempted> attempts;
  std::vector<storage::DeliveryRow> released;
  attempts.reserve(claimed.size());
  for (auto& row : claimed) {
    if ((attempts.size() > 0 && clock_.now() >= start_by) || failing.contains(row.webhook_id) || stop_requested()) {
      released.push_back(std::move(row));
      continue;
    }
    auto webhook = webhooks.find(row.webhook_id);
    if (webhook == webhooks.end()) {
      webhook = webhooks.emplace(row.webhook_id, db_.read([&](storage::Connection& c) {
        return storage::webhooks::find_any(c, row.webhook_id);
      })).first;
    }
    if (!webhook->second) continue;  // deleted meanwhile; its deliveries went with it
    auto secrets = secrets_of_app.find(webhook->second->app_id);
    if (secrets == secrets_of_app.end()) {
      secrets = secrets_of_app.emplace(webhook->second->app_id, applications_.webhook_secrets(webhook->second->app_id)).first;
    }
    attempts.push_back(deliver(std::move(row), *webhook->second, secrets->second, /*retry_on_failure=*/true));
    if (attempts.back().outcome != WebhookAttemptOutcome::kDelivered) failing.insert(attempts.back().webhook_id);
  }
  record(attempts, released);
  return true;
}

storage::DeliveryRow WebhookEngine::attempt(storage::DeliveryRow row, bool retry_on_failure) {
  const auto webhook = db_.read([&](storage::Connection& c) { return storage::webhooks::find_any(c, row.webhook_id); });
  if (!webhook) return row;  // deleted meanwhile; its deliveries went with it
  Attempted attempted = deliver(std::move(row), *webhook, applications_.webhook_secrets(webhook->app_id), retry_on_failure);
  record({attempted}, {});
  return attempted.row;
}

WebhookEngine::Attempted WebhookEngine::deliver(storage::DeliveryRow row, const storage::WebhookRow& webhook,
                                                const std::vector<std::string>& secrets, bool retry_on_failure) {
  const TimePoint started = clock_.now();
  const long long timestamp = std::chrono::duration_cast<std::chrono::seconds>(started.time_since_epoch()).count();
  const auto body_json = nlohmann::json::parse(row.body, nullptr, false);
  const std::string created_at = body_json.is_object() ? body_json.value("createdAt", "") : "";
  const WebhookSignatures signatures = sign_webhook(secrets, row.event_id, timestamp, row.body);
  const WebhookHttpResponse response = transport_.post(
      {webhook.url,
       {{"content-type", "application/json"},
        {"user-agent", "cobinar-phone-webhooks"},
        {"x-cobinar-signature", signatures.cobinar},
        {"x-cobinar-event", row.event},
        {"x-cobinar-event-id", row.event_id},
        {"x-cobinar-timestamp", created_at},
        {"webhook-id", row.event_id},
        {"webhook-timestamp", std::to_string(timestamp)},
        {"webhook-signature", signatures.standard}},
       row.body});

  const TimePoint finished = clock_.now();
  row.attempts += 1;
  row.last_attempt_at = format_timestamp(finished);
  row.last_status_code = response.status_code;
  row.last_duration_ms = response.duration_ms;
  const bool ok = response.verdict == WebhookHttpResponse::Verdict::kDelivered;
  const bool gone = response.verdict == WebhookHttpResponse::Verdict::kGone;
  row.last_error = ok ? std::nullopt : std::optional(response.error.empty() ? std::string("not delivered") : response.error);
  if (ok) {
    row.status = "succeeded";
    row.next_attempt_at.reset();
  } else if (!gone && retry_on_failure && row.attempts <= static_cast<int>(options_.retry_schedule.size())) {
    // Exponential schedule with ±20 % jitter, so a recovering receiver is not hit by a herd.
    const auto base = std::chrono::duration_cast<std::chrono::milliseconds>(options_.retry_schedule[row.attempts - 1]);
    const auto spread = base.count() / 5;
    const long long jitter = spread > 0 ? static_cast<long long>(random_.uniform(static_cast<std::uint32_t>(
                                              std::min<long long>(2 * spread + 1, 0xffffffffLL)))) - spread
                                        : 0;
    row.status = "pending";
    row.next_attempt_at = format_timestamp(finished + base + std::chrono::milliseconds(jitter));
  } else {
    row.status = "failed";
    row.next_attempt_at.reset();
  }
  const WebhookAttemptOutcome outcome = ok     ? WebhookAttemptOutcome::kDelivered
                                        : gone ? WebhookAttemptOutcome::kGone
                                        : row.status == "pending" ? WebhookAttemptOutcome::kRetry
                                                                  : WebhookAttemptOutcome::kFailed;
  return Attempted{std::move(row), webhook.id, gone, outcome};
}

void WebhookEngine::record(const std::vector<Attempted>& attempts, const std::vector<storage::DeliveryRow>& released) {
  if (attempts.empty() && released.empty()) return;
  const std::string now = format_timestamp(clock_.now());
  db_.write([&](storage::Connection& c) {
    for (const auto& attempted : attempts) {
      storage::deliveries::update(c, attempted.row);
      if (attempted.gone) {
        // 410 Gone: the receiver asks us to stop; disable the webhook.
        if (auto current = storage::webhooks::find_any(c, attempted.webhook_id)) {
          current->status = "disabled";
          current->updated_at = now;
          storage::webhooks::update(c, *current);
        }
      }
    }
    for (auto row : released) {
      row.next_attempt_at = now;
      storage::deliveries::update(c, row);
    }
  });
  for (const auto& attempted : attempts) {
    if (monitor_) {
      // A receiver that fails is its owner's business, but the operator sees that deliveries fail.
      if (attempted.outcome == WebhookAttemptOutcome::kDelivered) {
        monitor_->recovered("webhooks");
      } else {
        monitor_->failed("webhooks", "delivery_failed",
                         "webhook " + attempted.webhook_id + ": " + attempted.row.last_error.value_or(""));
      }
    }
    if (observer_) observer_(attempted.outcome);
  }
}

// ---------------------------------------------------------------------------------------
// Registration API

void WebhookService::check_url(FieldReader& fields, const std::optional<std::string>& url) const {
  if (!url) return;
  std::string problem;
  const auto parsed = parse_url(*url, &problem);
  if (!parsed) {
    fields.reject("url", problem);
  } else if (parsed->scheme == "http" && !engine_.options().allow_http) {
    fields.reject("url", "must use https (http needs --webhook-allow-http)");
  }
}

namespace {

std::optional<std::string> read_events(FieldReader& fields, const nlohmann::json& body, bool required) {
  if (!body.contains("events")) {
    if (required) fields.reject("events", "is required");
    return std::nullopt;
  }
  const auto& events = body["events"];
  if (!events.is_array() || events.empty() || events.size() > webhook_event_names().size()) {
    fields.reject("events", "must be a non-empty array of event names");
    return std::nullopt;
  }
  nlohmann::json unique = nlohmann::json::array();
  for (const auto& e : events) {
    const auto& names = webhook_event_names();
    if (!e.is_string() || std::find(names.begin(), names.end(), e.get<std::string>()) == names.end()) {
      fields.reject("events", "contains an unknown event; known: otp.created, otp.verified, otp.failed, otp.expired, otp.blocked, "
                              "identity.created, identity.updated, application.created, application.deleted");
      return std::nullopt;
    }
    if (std::find(unique.begin(), unique.end(), e) == unique.end()) unique.push_back(e);
  }
  return unique.dump();
}

}  // namespace

Result<Page<Webhook>> WebhookService::list(const Developer& owner, const std::optional<std::string>& app_id,
                                           const PageRequest& page) {
  const auto rows = db_.read([&](storage::Connection& c) -> std::optional<std::vector<storage::WebhookRow>> {
    if (app_id && !storage::applications::find(c, owner.id, *app_id)) return std::nullopt;
    return storage::webhooks::list(c, owner.id, app_id, page.after, page.limit + 1);
  });
  if (!rows) return Error::not_found("Application not found.");
  std::vector<Webhook> hooks;
  for (const auto& row : *rows) hooks.push_back(from_row(row));
  return make_page(std::move(hooks), page.limit, [](const Webhook& w) { return w.id; });
}

Result<Webhook> WebhookService::create(const Developer& owner, const nlohmann::json& body) {
  FieldReader fields(body);
  const auto app_id = fields.required_string("appId", 1, 100);
  const auto url = fields.required_string("url", 1, kMaxUrl);
  check_url(fields, url);
  const auto events = read_events(fields, body, true);
  if (!fields.ok()) return fields.error();
  const std::string now = format_timestamp(clock_.now());
  storage::WebhookRow row{new_id(clock_, random_), owner.id, *app_id, *url, *events, "enabled", now, now};
  const bool created = db_.write([&](storage::Connection& c) {
    storage::locks::exclusive(c, storage::locks::developer(owner.id));
    if (!storage::applications::find(c, owner.id, *app_id)) return false;
    storage::webhooks::insert(c, row);
    return true;
  });
  if (!created) return Error::not_found("Application not found.");
  return from_row(row);
}

Result<Webhook> WebhookService::get(const Developer& owner, const std::string& id) {
  const auto row = db_.read([&](storage::Connection& c) { return storage::webhooks::find(c, owner.id, id); });
  if (!row) return webhook_not_found();
  return from_row(*row);
}

Result<Webhook> WebhookService::update(const Developer& owner, const std::string& id, const nlohmann::json& body) {
  FieldReader fields(body);
  const auto url = fields.optional_string("url", 1, kMaxUrl);
  check_url(fields, url);
  const auto events = read_events(fields, body, false);
  const auto status = fields.optional_string("status", 1, 10);
  if (status && *status != "enabled" && *status != "disabled") fields.reject("status", "must be \"enabled\" or \"disabled\"");
  if (fields.has("appId")) fields.reject("appId", "cannot be changed; create a webhook for the other application");
  if (!fields.ok()) return fields.error();
  const std::string now = format_timestamp(clock_.now());
  const auto row = db_.write([&](storage::Connection& c) -> std::optional<storage::WebhookRow> {
    storage::locks::exclusive(c, storage::locks::developer(owner.id));
    auto found = storage::webhooks::find(c, owner.id, id);
    if (!found) return std::nullopt;
    if (url) found->url = *url;
    if (events) found->events = *events;
    if (status) found->status = *status;
    found->updated_at = now;
    storage::webhooks::update(c, *found);
    return found;
  });
  if (!row) return webhook_not_found();
  return from_row(*row);
}

Status WebhookService::remove(const Developer& owner, const std::string& id) {
  const bool removed = db_.write([&](storage::Connection& c) {
    storage::locks::exclusive(c, storage::locks::developer(owner.id));
    if (!storage::webhooks::find(c, owner.id, id)) return false;
    storage::webhooks::remove(c, owner.id, id);
    return true;
  });
  if (!removed) return webhook_not_found();
  return Ok{};
}

Result<TestDelivery> WebhookService::send_test(const Developer& owner, const std::string& id) {
  const auto webhook = db_.read([&](storage::Connection& c) { return storage::webhooks::find(c, owner.id, id); });
  if (!webhook) return webhook_not_found();
  const std::string now = format_timestamp(clock_.now());
  storage::DeliveryRow row;
  row.id = new_id(clock_, random_);
  row.webhook_id = webhook->id;
  row.event_id = new_id(clock_, random_);
  row.event = "otp.verified";
  row.body = delivery_body(row.event_id, row.event, now,
                           {{"requestId", "test_" + row.event_id}, {"appId", webhook->app_id}, {"phone", "+999 000 000 000"},
                            {"verifiedAt", now}, {"test", true}});
  row.status = "pending";
  row.created_at = now;
  db_.write([&](storage::Connection& c) { storage::deliveries::insert(c, row); });
  const auto done = engine_.attempt(row, /*retry_on_failure=*/false);
  return TestDelivery{done.status == "succeeded", done.last_status_code};
}

Result<Page<WebhookDelivery>> WebhookService::deliveries(const Developer& owner, const std::string& id,
                                                         const PageRequest& page) {
  const auto rows = db_.read([&](storage::Connection& c) -> std::optional<std::vector<storage::DeliveryRow>> {
    if (!storage::webhooks::find(c, owner.id, id)) return std::nullopt;
    return storage::deliveries::list(c, id, page.after, page.limit + 1);
  });
  if (!rows) return webhook_not_found();
  std::vector<WebhookDelivery> out;
  for (const auto& row : *rows) out.push_back(from_row(row));
  return make_page(std::move(out), page.limit, [](const WebhookDelivery& d) { return d.id; });
}

Result<WebhookDelivery> WebhookService::retry(const Developer& owner, const std::string& id,
                                              const std::string& delivery_id) {
  const auto row = db_.read([&](storage::Connection& c) -> std::optional<storage::DeliveryRow> {
    if (!storage::webhooks::find(c, owner.id, id)) return std::nullopt;
    return storage::deliveries::find(c, id, delivery_id);
  });
  if (!row) return Error::not_found("Delivery not found.");
  return from_row(engine_.attempt(*row, /*retry_on_failure=*/row->status == "pending"));
}

}  // namespace core
