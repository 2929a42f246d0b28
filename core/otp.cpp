#include "core/otp.h"

#include <sodium.h>

#include <tuple>

#include "core/ids.h"
#include "core/phone.h"
#include "core/templates.h"
#include "core/validation.h"
#include "storage/abuse.h"
#include "storage/analytics.h"
#include "storage/applications.h"
#include "storage/locks.h"
#include "storage/otp.h"
#include "storage/rate_limits.h"

namespace core {

namespace {

constexpr char kExpiredText[] = "[expired]";

Error rate_limited(std::chrono::seconds wait, const std::string& what) {
  return Error{ErrorCode::kRateLimited, "Too many " + what + "; try again later.",
               nlohmann::json{{"retryAfter", wait.count()}}};
}

// A row's region and number type: as recorded, or parsed from its phone for a row written
// before migration 10 that the backfill has not reached yet.
std::pair<std::optional<std::string>, std::string> recorded_or_parsed(const std::string& phone,
                                                                      const std::optional<std::string>& region,
                                                                      const std::optional<std::string>& number_type) {
  if (number_type) return {region, *number_type};
  PhoneFacts facts = phone_facts(phone);
  return {std::move(facts.region), std::move(facts.number_type)};
}

OtpRequest as_read(const storage::OtpRow& row, const std::string& now) {
  OtpRequest request{row.id,         row.app_id,     row.phone,      row.status,     row.attempts,
                     row.delivery_status, row.created_at, row.expires_at, row.verified_at};
  if (request.status == "pending" && row.expires_at <= now) request.status = "expired";
  std::tie(request.region, request.number_type) = recorded_or_parsed(row.phone, row.region, row.number_type);
  request.code_length = row.code_length;
  request.code_alphabet = row.code_alphabet;
  request.locale = row.locale;
  return request;
}

Identity as_identity(const storage::IdentityRow& row) {
  Identity identity{row.phone, row.created_at, row.last_verified_at, row.verification_count, row.last_application_id};
  std::tie(identity.region, identity.number_type) = recorded_or_parsed(row.phone, row.region, row.number_type);
  return identity;
}

// A send's or lookup's region: absent or null, else two letters (any case).
std::optional<std::string> read_region(const nlohmann::json& body, FieldReader& fields) {
  if (!body.contains("region") || body["region"].is_null()) return std::nullopt;
  const auto region = body["region"].is_string() ? parse_region_code(body["region"].get<std::string>()) : std::nullopt;
  if (!region) fields.reject("region", "must be an ISO 3166-1 alpha-2 region code (such as GB)");
  return region;
}

Error phone_refused(FieldReader& fields, const PhoneCheck& check) {
  fields.reject("phone", check.problem);
  Error error = fields.error();
  error.details["reason"] = check.info.reason.value_or("NOT_A_NUMBER");
  return error;
}

// Appends one event in the caller's transaction.
void emit(storage::Connection& c, const Clock& clock, Random& random, const std::string& type,
          const std::string& developer_id, const std::string& app_id, const std::optional<std::string>& request_id,
          const std::string& phone, const std::optional<std::string>& status, nlohmann::json payload) {
  payload["appId"] = app_id;
  payload["phone"] = display_phone(phone);
  if (request_id) payload["requestId"] = *request_id;
  const std::string now = format_timestamp(clock.now());
  storage::events::insert(c, {0, new_id(clock, random), type, developer_id, app_id, request_id, phone, status,
                              payload.dump(), now});
  // The analytics counters move in the same transaction as the event they count.
  const std::string day = now.substr(0, 10);
  if (type == "otp.created") storage::analytics::count(c, app_id, developer_id, day, storage::StatColumn::kSent);
  if (type == "otp.verified") storage::analytics::count(c, app_id, developer_id, day, storage::StatColumn::kVerified);
  if (type == "otp.failed") storage::analytics::count(c, app_id, developer_id, day, storage::StatColumn::kFailed);
}

// The request leaves pending: no hash, no readable code anywhere.
void close_request(storage::Connection& c, storage::OtpRow& row, const std::string& status,
                   const std::optional<std::string>& reason, const std::string& now) {
  row.status = status;
  row.failure_reason = reason;
  row.code_hash.reset();
  row.updated_at = now;
  storage::otp::update(c, row);
  storage::inbox::erase_text(c, row.id);
  storage::sms_jobs::erase_message(c, row.id);
}

// failure_reason of a request the expiry sweep closed before anyone tried to verify it.
constexpr char kExpiredUnseen[] = "expired_unseen";

bool locked(const std::optional<storage::PhoneFailures>& failures, const std::string& now) {
  return failures && failures->locked_until && *failures->locked_until > now;
}

std::chrono::seconds seconds_until(const std::string& until, TimePoint now) {
  const auto end = parse_timestamp(until).value_or(now);
  return std::max(std::chrono::ceil<std::chrono::seconds>(end - now), std::chrono::seconds(1));
}

}  // namespace

OtpService::OtpService(storage::Store& db, const Clock& clock, Random& random, const ServerKey& key,
                       OtpOptions options, std::function<void()> job_queued, std::function<void()> events_written)
    : db_(db),
      clock_(clock),
      random_(random),
      options_(std::move(options)),
      default_policy_(default_policy(static_cast<int>(options_.ttl.count()), options_.message_template)),
      job_queued_(std::move(job_queued)),
      events_written_(std::move(events_written)),
      code_key_(key.derive("otp-hmac")),
      message_key_(key.derive("sms-msg")),
      send_by_app_(make_rate_limit(db, clock, "send_by_app", options_.send_rate_limit, std::chrono::minutes(1),
                                   key.derive("rate-limits"))),
      send_by_phone_(make_rate_limit(db, clock, "send_by_phone", options_.phone_send_limit, std::chrono::minutes(10),
                                     key.derive("rate-limits"))),
      verify_by_app_(make_rate_limit(db, clock, "verify_by_app", options_.verify_rate_limit, std::chrono::minutes(1),
                                     key.derive("rate-limits"))) {}

std::string OtpService::code_hash(const std::string& request_id, std::string_view code) const {
  const std::string message = request_id + ":" + std::string(code);
  std::string mac(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256(reinterpret_cast<unsigned char*>(mac.data()),
                         reinterpret_cast<const unsigned char*>(message.data()), message.size(), code_key_.data());
  return mac;
}

Result<SendResult> OtpService::send(const Application& app, const nlohmann::json& body) {
  FieldReader fields(body);
  const auto raw_phone = fields.required_string("phone", 1, 64);
  std::optional<std::string> locale;
  if (body.contains("locale") && !body["locale"].is_null()) {
    locale = fields.optional_string("locale", 1, 35);
    if (locale && !is_language_tag(*locale)) fields.reject("locale", "is not a BCP 47 language tag (such as en or pt-BR)");
  }
  const auto region = read_region(body, fields);
  std::optional<std::string> nonce;
  if (body.contains("nonce") && !body["nonce"].is_null()) nonce = fields.optional_string("nonce", 1, 128);
  if (!fields.ok()) return fields.error();
  const OtpPolicy& policy = app.policy ? *app.policy : default_policy_;
  const PhoneCheck check = check_phone(*raw_phone, region ? region : policy.default_region, policy.number_validation,
                                       options_.phone_allow_prefixes);
  if (!check.accepted) return phone_refused(fields, check);
  const std::optional<std::string> phone = check.info.e164;
  const bool test_app = app.environment == "test";
  const bool to_inbox = test_app || is_virtual_phone(*phone) || options_.sms_driver == "inbox";
  // The abuse counts know the send by this id until the request is stored under its own.
  const std::string admission_id = new_id(clock_, random_);

  // The abuse rules come before any quota is spent (SPEC §17); test apps and +999 are exempt.
  const bool screened = abuse_ != nullptr && !test_app && !is_virtual_phone(*phone);
  // An admitted send that does not happen after all is taken back from the abuse counts.
  const auto take_back = [&](const std::optional<AbuseTicket>& ticket, Error error) {
    if (ticket) abuse_->cancel(*ticket);
    return error;
  };
  const auto admit = [&]() -> Result<std::optional<AbuseTicket>> {
    std::optional<AbuseTicket> ticket;
    if (screened) {
      auto screening = screen_send(app, policy, check.info, admission_id);
      if (!screening.ok()) return screening.error();
      ticket = screening.value();
    }
    const auto refused = [&](Error error) { return take_back(ticket, std::move(error)); };
    if (!to_inbox && options_.sms_driver.empty()) {
      return refused(Error{ErrorCode::kSmsNotConfigured,
                           "This server has no SMS delivery for real numbers: start it with --sms-driver http or exec "
                           "(or --sms-driver inbox to keep codes in the inbox on purpose).",
                           nullptr});
    }
    // A request refused by one limit must not use up the other.
    if (auto wait = send_by_app_->acquire(app.id)) return refused(rate_limited(*wait, "codes sent by this application"));
    if (auto wait = send_by_phone_->acquire(app.id + "|" + *phone)) {
      send_by_app_->release(app.id);
      return refused(rate_limited(*wait, "codes sent to this phone"));
    }
    return ticket;
  };
  // With PostgreSQL the abuse counts and both rate limits are soft state in the database: one
  // transaction for all of them (each would otherwise be its own, with its own round trips).
  // With SQLite they live in memory and must not become a job of the writer.
  auto admitted = db_.engine() == storage::Engine::kPostgres
                      ? db_.write([&](storage::Connection&) { return admit(); })
                      : admit();
  if (!admitted.ok()) {
    if (screened && events_written_) events_written_();  // an otp.blocked event is committed now
    return admitted.error();
  }
  const std::optional<AbuseTicket> ticket = admitted.value();

  const TimePoint now_time = clock_.now();
  const std::string now = format_timestamp(now_time);
  const std::string code = generate_code(policy.code_length, policy.code_alphabet, random_);
  const std::string locale_used = choose_locale(policy, locale);
  storage::OtpRow row{admission_id, app.id,  app.developer_id, *phone, "pending", std::nullopt,
                      std::nullopt,            0,       to_inbox ? "sent" : "queued",      now,
                      format_timestamp(now_time + std::chrono::seconds(policy.ttl_seconds)), std::nullopt, now};
  row.region = check.info.region;
  row.number_type = check.info.number_type;
  row.code_length = policy.code_length;
  row.code_alphabet = code_alphabet_name(policy.code_alphabet);
  row.max_attempts = policy.max_attempts;
  row.locale = locale_used;
  row.nonce = nonce;
  const auto template_text = policy.templates.find(locale_used);
  const std::string message = render_message(
      template_text != policy.templates.end() ? template_text->second : std::string(kDefaultTemplate), code, app.name,
      policy.ttl_seconds);

  std::optional<std::string> locked_until;
  db_.write([&](storage::Connection& c) {
    storage::locks::exclusive(c, storage::locks::phone(app.id, *phone));
    const auto failures = storage::phone_failures::get(c, app.id, *phone);
    if (locked(failures, now)) {
      locked_until = failures->locked_until;
      return;
    }
    // Made under the phone's lock, so a phone's newest request (by id) is the one stored last,
    // the one that stays pending.
    row.id = new_id(clock_, random_);
    row.code_hash = code_hash(row.id, code);
    if (ticket) abuse_->stored(c, *ticket, row.id);
    for (auto& earlier : storage::otp::pending(c, app.id, *phone)) {
      close_request(c, earlier, "failed", "superseded", now);
      emit(c, clock_, random_, "otp.failed", app.developer_id, app.id, earlier.id, earlier.phone, "failed",
           {{"reason", "superseded"}, {"attemptsRemaining", 0}});
    }
    storage::otp::insert(c, row);
    if (to_inbox) {
      storage::inbox::insert(c, {new_id(clock_, random_), row.id, app.id, app.developer_id, *phone,
                                 seal(message, message_key_, random_), now, "", ""});
    } else {
      storage::sms_jobs::insert(c, {0, row.id, app.id, app.name, *phone, options_.sms_driver,
                                    seal(message, message_key_, random_), seal(code, message_key_, random_), "queued",
                                    0, now, std::nullopt, now});
    }
    emit(c, clock_, random_, "otp.created", app.developer_id, app.id, row.id, *phone, "pending",
         {{"expiresAt", row.expires_at}});
  });
  if (locked_until) return take_back(ticket, rate_limited(seconds_until(*locked_until, now_time), "wrong codes for this phone"));
  if (!to_inbox && job_queued_) job_queued_();
  if (events_written_) events_written_();
  return SendResult{as_read(row, now), test_app ? std::optional(code) : std::nullopt};
}

Result<std::optional<AbuseTicket>> OtpService::screen_send(const Application& app, const OtpPolicy& policy,
                                                          const PhoneInfo& phone, const std::string& request_id) {
  const AbusePolicy& rules = policy.abuse;
  const TimePoint now = clock_.now();
  const bool safe = safe_listed(rules, *phone.e164);
  if (!safe) {
    if (auto rule = fixed_rule_refusal(rules, phone.region, phone.number_type)) {
      return refuse_send(app, phone, *rule, Admission{}, now);
    }
  }
  // Nothing to count: no breaker and no budget.
  if (!rules.breaker.enabled && !rules.daily_send_limit) return std::optional<AbuseTicket>();
  AbuseVerdict verdict = abuse_->admit(app, rules, *phone.e164, request_id, now, !safe);
  if (verdict.admission.refused) return refuse_send(app, phone, *verdict.admission.refused, verdict.admission, now);
  return std::optional<AbuseTicket>(verdict.ticket);
}

Error OtpService::refuse_send(const Application& app, const PhoneInfo& phone, BlockRule rule, const Admission& admission,
                              TimePoint now) {
  const std::string rule_name(block_rule_name(rule));
  const nlohmann::json region = phone.region ? nlohmann::json(*phone.region) : nlohmann::json(nullptr);
  const nlohmann::json prefix = admission.block ? nlohmann::json(admission.block->prefix) : nlohmann::json(nullptr);
  db_.write([&](storage::Connection& c) {
    // With PostgreSQL this may join the admission's soft-state transaction: the refusal is an
    // answered state, flushed before the answer.
    storage::abuse::flush_on_commit(c);
    if (admission.tripped) abuse_->opened(c, app.id, *admission.block);
    emit(c, clock_, random_, "otp.blocked", app.developer_id, app.id, std::nullopt, *phone.e164, std::nullopt,
         {{"rule", rule_name}, {"region", region}, {"prefix", prefix}});
  });
  if (events_written_) events_written_();
  if (on_blocked_) on_blocked_(rule);
  switch (rule) {
    case BlockRule::kCountry:
      return Error{ErrorCode::kSendBlocked,
                   "This application's policy does not send codes to numbers of " +
                       (phone.region ? *phone.region : std::string("no known country")) + ".",
                   {{"rule", rule_name}, {"region", region}}};
    case BlockRule::kNumberType:
      return Error{ErrorCode::kSendBlocked,
                   "This application's policy does not send codes to " + phone.number_type + " numbers.",
                   {{"rule", rule_name}, {"numberType", phone.number_type}}};
    case BlockRule::kConversionBreaker: {
      const PrefixBlock& block = *admission.block;
      return Error{ErrorCode::kSendBlocked,
                   "Numbers under " + block.prefix + " requested many codes that were rarely verified; sends to them " +
                       "are blocked until " + format_timestamp(block.reopens_at) + ".",
                   {{"rule", rule_name},
                    {"prefix", block.prefix},
                    {"sends", block.sends},
                    {"verified", block.verified},
                    {"reopensAt", format_timestamp(block.reopens_at)}}};
    }
    case BlockRule::kDailyBudget: {
      const auto wait = std::max(std::chrono::ceil<std::chrono::seconds>(next_utc_midnight(now) - now),
                                 std::chrono::seconds(1));
      return Error{ErrorCode::kRateLimited,
                   "This application sent its daily budget of " + std::to_string(admission.daily_limit) +
                       " codes; it refills at midnight UTC.",
                   {{"rule", rule_name}, {"limit", admission.daily_limit}, {"retryAfter", wait.count()}}};
    }
  }
  return Error::internal();
}

Result<Verification> OtpService::verify(const Application& app, const nlohmann::json& body) {
  FieldReader fields(body);
  const auto request_id = fields.required_string("requestId", 1, 100);
  const auto code = fields.required_string("code", 0, 100);
  // Every policy's codes are 4–10 letters or digits; the request's own shape is checked below.
  if (code && (code->size() < 4 || code->size() > 10 ||
               code->find_first_not_of("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") !=
                   std::string::npos)) {
    fields.reject("code", "must be the code that was sent: 4 to 10 letters or digits");
  }
  if (!fields.ok()) return fields.error();
  if (auto wait = verify_by_app_->acquire(app.id)) return rate_limited(*wait, "verifications by this application");

  const TimePoint now_time = clock_.now();
  const std::string now = format_timestamp(now_time);
  struct Outcome {
    std::optional<Error> error;
    storage::OtpRow row;
    bool not_an_attempt = false;  // a code not of the request's shape: its quota is given back
  };
  // One write transaction: concurrent verifies of a request are serialised, so only one can
  // succeed and the attempt count can never pass the limit.
  Outcome outcome = db_.write([&](storage::Connection& c) -> Outcome {
    auto found = storage::otp::find(c, *request_id);
    if (!found || found->app_id != app.id) return {Error::not_found("OTP request not found."), {}};
    // Another node may have changed the request while this one waited for its phone.
    if (storage::locks::exclusive(c, storage::locks::phone(app.id, found->phone))) {
      found = storage::otp::find(c, *request_id);
      if (!found) return {Error::not_found("OTP request not found."), {}};
    }
    storage::OtpRow row = *found;
    const CodeAlphabet alphabet = parse_code_alphabet(row.code_alphabet).value_or(CodeAlphabet::kDigits);
    const auto canonical = canonical_code(*code, row.code_length, alphabet);
    if (!canonical) {
      const std::string shape = std::to_string(row.code_length) +
                                (alphabet == CodeAlphabet::kDigits ? " digits" : " letters and digits (no O, I, L, 0 or 1)");
      return {Error::invalid_argument("code must be " + shape + ".", {{"fields", {{"code", "must be " + shape}}}}), row, true};
    }
    const auto failures = storage::phone_failures::get(c, app.id, row.phone);
    if (locked(failures, now)) {
      return {rate_limited(seconds_until(*failures->locked_until, now_time), "wrong codes for this phone"), row};
    }
    if (row.status == "verified") {
      return {Error{ErrorCode::kOtpAlreadyVerified, "This code was already verified.", nullptr}, row};
    }
    if (row.status == "expired") {
      if (row.failure_reason == kExpiredUnseen) {
        // The sweep closed it; otp.expired still marks the first verify after the TTL (SPEC §9).
        row.failure_reason.reset();
        row.updated_at = now;
        storage::otp::update(c, row);
        emit(c, clock_, random_, "otp.expired", row.developer_id, app.id, row.id, row.phone, "expired",
             {{"expiredAt", row.expires_at}});
      }
      return {Error{ErrorCode::kOtpExpired, "This code has expired.", nullptr}, row};
    }
    if (row.status == "failed") {
      return {Error{ErrorCode::kOtpFailed,
                    row.failure_reason == "superseded" ? "A newer code was sent; this one is no longer valid."
                                                       : "Too many wrong codes; request a new one.",
                    nullptr},
              row};
    }
    if (row.expires_at <= now) {
      close_request(c, row, "expired", std::nullopt, now);
      emit(c, clock_, random_, "otp.expired", row.developer_id, app.id, row.id, row.phone, "expired",
           {{"expiredAt", row.expires_at}});
      return {Error{ErrorCode::kOtpExpired, "This code has expired.", nullptr}, row};
    }

    const std::string expected = row.code_hash.value_or("");
    const std::string given = code_hash(row.id, *canonical);
    const bool right = expected.size() == given.size() && sodium_memcmp(expected.data(), given.data(), given.size()) == 0;
    if (right) {
      row.status = "verified";
      row.verified_at = now;
      close_request(c, row, "verified", std::nullopt, now);
      // A verified phone needs no failure row; most never had one, and writing zeros for each
      // grew the table and the commit by a row per verification.
      if (failures) storage::phone_failures::clear(c, app.id, row.phone);
      if (abuse_ != nullptr && app.environment != "test" && !is_virtual_phone(row.phone)) {
        abuse_->verified(c, app, (app.policy ? *app.policy : default_policy_).abuse, row.phone, row.id);
      }
      const auto previous_here = storage::analytics::touch_phone(c, app.id, row.phone, now);
      storage::analytics::move_active_phone(c, storage::ActiveScope::kApplication, app.id, previous_here, now);
      emit(c, clock_, random_, "otp.verified", row.developer_id, app.id, row.id, row.phone, "verified",
           {{"verifiedAt", now}});
      storage::locks::exclusive(c, storage::locks::identity(row.developer_id, row.phone));
      auto identity = storage::identities::find(c, row.developer_id, row.phone);
      const bool created = !identity;
      storage::analytics::move_active_phone(c, storage::ActiveScope::kDeveloper, row.developer_id,
                                            created ? std::nullopt : std::optional(identity->last_verified_at), now);
      if (created) {
        identity = storage::IdentityRow{row.developer_id, row.phone, new_id(clock_, random_), now, now, 1, app.id,
                                        row.region, row.number_type};
        storage::identities::insert(c, *identity);
      } else {
        if (row.number_type) {
          identity->region = row.region;
          identity->number_type = row.number_type;
        }
        identity->last_verified_at = now;
        identity->verification_count += 1;
        identity->last_application_id = app.id;
        storage::identities::update(c, *identity);
      }
      emit(c, clock_, random_, created ? "identity.created" : "identity.updated", row.developer_id, app.id, row.id,
           row.phone, std::nullopt,
           {{"verificationCount", identity->verification_count}, {"lastVerifiedAt", now}, {"createdAt", identity->created_at}});
      return {std::nullopt, row};
    }

    row.attempts += 1;
    const int remaining = std::max(0, row.max_attempts - row.attempts);
    storage::PhoneFailures counted = failures.value_or(storage::PhoneFailures{});
    counted.consecutive += 1;
    counted.locked_until.reset();
    counted.updated_at = now;
    if (counted.consecutive >= options_.phone_failure_limit) {
      counted.consecutive = 0;
      counted.locked_until = format_timestamp(now_time + options_.phone_lock);
    }
    storage::phone_failures::put(c, app.id, row.phone, counted);
    emit(c, clock_, random_, "otp.failed", row.developer_id, app.id, row.id, row.phone,
         remaining == 0 ? "failed" : "pending", {{"reason", "invalid_code"}, {"attemptsRemaining", remaining}});
    if (remaining == 0) {
      close_request(c, row, "failed", "max_attempts", now);
      emit(c, clock_, random_, "otp.failed", row.developer_id, app.id, row.id, row.phone, "failed",
           {{"reason", "max_attempts"}, {"attemptsRemaining", 0}});
    } else {
      row.updated_at = now;
      storage::otp::update(c, row);
    }
    return {Error{ErrorCode::kInvalidCode, "The code is not correct.", nlohmann::json{{"attemptsRemaining", remaining}}},
            row};
  });
  if (outcome.not_an_attempt) verify_by_app_->release(app.id);
  if (events_written_ && !outcome.not_an_attempt) events_written_();
  if (outcome.error) return *outcome.error;
  Verification verification{as_read(outcome.row, now), std::nullopt};
  if (receipts_) {
    verification.receipt =
        receipts_->sign({app.id, app.client_id, outcome.row.phone, outcome.row.id, now_time, outcome.row.nonce});
  }
  return verification;
}

Status OtpService::check_app_filter(const Developer& owner, const std::optional<std::string>& app_id) {
  if (!app_id) return Ok{};
  const bool mine = db_.read([&](storage::Connection& c) { return storage::applications::find(c, owner.id, *app_id).has_value(); });
  if (!mine) return Error::not_found("Application not found.");
  return Ok{};
}

Result<Page<OtpRequest>> OtpService::list(const Developer& owner, const std::optional<std::string>& app_id,
                                          const std::optional<std::string>& status, const PageRequest& page) {
  if (status && *status != "pending" && *status != "verified" && *status != "failed" && *status != "expired") {
    return Error::invalid_argument("status must be pending, verified, failed or expired.",
                                   {{"fields", {{"status", "must be pending, verified, failed or expired"}}}});
  }
  if (auto mine = check_app_filter(owner, app_id); !mine.ok()) return mine.error();
  const std::string now = format_timestamp(clock_.now());
  const auto rows = db_.read([&](storage::Connection& c) {
    return storage::otp::list(c, owner.id, {app_id, status, now, page.after, page.limit + 1});
  });
  std::vector<OtpRequest> requests;
  for (const auto& row : rows) requests.push_back(as_read(row, now));
  return make_page(std::move(requests), page.limit, [](const OtpRequest& r) { return r.id; });
}

Result<OtpRequest> OtpService::get(const Developer& owner, const std::string& id) {
  const auto row = db_.read([&](storage::Connection& c) { return storage::otp::find(c, id); });
  if (!row || row->developer_id != owner.id) return Error::not_found("OTP request not found.");
  return as_read(*row, format_timestamp(clock_.now()));
}

Result<Page<InboxMessage>> OtpService::inbox(const Developer& owner, const std::optional<std::string>& app_id,
                                             const std::optional<std::string>& phone, const PageRequest& page) {
  std::optional<std::string> normalized;
  if (phone) {
    normalized = normalize_phone(*phone);
    if (!normalized) {
      return Error::invalid_argument("phone is not a valid phone number.",
                                     {{"fields", {{"phone", "is not a phone number: use + and the country code"}}}});
    }
  }
  if (auto mine = check_app_filter(owner, app_id); !mine.ok()) return mine.error();
  const std::string now = format_timestamp(clock_.now());
  const auto rows = db_.read([&](storage::Connection& c) {
    return storage::inbox::list(c, owner.id, app_id, normalized, page.after, page.limit + 1);
  });
  std::vector<InboxMessage> messages;
  for (const auto& row : rows) {
    const bool readable = row.message_box && row.request_status == "pending" && row.request_expires_at > now;
    const auto text = readable ? unseal(*row.message_box, message_key_) : std::nullopt;
    messages.push_back({row.id, row.app_id, row.request_id, row.phone, text.value_or(kExpiredText), row.created_at});
  }
  return make_page(std::move(messages), page.limit, [](const InboxMessage& m) { return m.id; });
}

Result<Page<Identity>> OtpService::identities(const Developer& owner, const PageRequest& page) {
  const auto rows = db_.read([&](storage::Connection& c) {
    return storage::identities::list(c, owner.id, page.after, page.limit + 1);
  });
  std::vector<std::pair<std::string, Identity>> keyed;
  for (const auto& row : rows) {
    keyed.push_back({row.id, as_identity(row)});
  }
  auto page_of_pairs = make_page(std::move(keyed), page.limit, [](const auto& p) { return p.first; });
  Page<Identity> result;
  for (auto& [id, identity] : page_of_pairs.items) result.items.push_back(std::move(identity));
  result.next_cursor = page_of_pairs.next_cursor;
  return result;
}

Result<Identity> OtpService::identity(const std::string& developer_id, const std::string& phone) {
  const auto normalized = normalize_phone(phone);
  if (!normalized) return Error::not_found("No identity with this phone number.");
  const auto row = db_.read([&](storage::Connection& c) { return storage::identities::find(c, developer_id, *normalized); });
  if (!row) return Error::not_found("No identity with this phone number.");
  return as_identity(*row);
}

Result<PhoneInfo> OtpService::lookup_phone(const std::string& number, const std::optional<std::string>& region) const {
  const auto length = utf8_length(number);
  const bool blank = number.find_first_not_of(' ') == std::string::npos;
  if (!length || blank || *length > 64) {
    return Error::invalid_argument("number must be 1 to 64 characters.", {{"fields", {{"number", "must be 1 to 64 characters"}}}});
  }
  std::optional<std::string> parsed_region;
  if (region) {
    parsed_region = parse_region_code(*region);
    if (!parsed_region) {
      return Error::invalid_argument("region must be an ISO 3166-1 alpha-2 region code.",
                                     {{"fields", {{"region", "must be an ISO 3166-1 alpha-2 region code (such as GB)"}}}});
    }
  }
  return describe_phone(number, parsed_region, options_.phone_allow_prefixes);
}

int OtpService::purge_history(std::chrono::days retention) {
  const std::string cutoff = format_timestamp(clock_.now() - retention);
  const std::string now = format_timestamp(clock_.now());
  int total = 0;
  // Small batches, each its own transaction, so requests are never held up for long.
  while (true) {
    // Every rate-limit and breaker window is a day at most; those rows are not history and are
    // not counted. Blocks are kept two days after they reopen (where their next judgement starts).
    const TimePoint day_ago = clock_.now() - std::chrono::hours(24);
    const auto [history, limits] = db_.write([&](storage::Connection& c) {
      return std::pair{storage::retention::purge(c, cutoff, 500) + storage::retention::purge_stale_state(c, now, cutoff, 500),
                       storage::rate_limits::purge(c, format_timestamp(day_ago), 500) +
                           storage::abuse::purge(c, format_timestamp(day_ago), now.substr(0, 10),
                                                 format_timestamp(clock_.now() - std::chrono::hours(48)), 500)};
    });
    total += history;
    if (history == 0 && limits == 0) break;
  }
  return total;
}

int OtpService::backfill_phone_facts(int batch, int max_batches) {
  int total = 0;
  const auto fill = [&](auto missing, auto set) {
    for (int pass = 0; pass < max_batches; ++pass) {
      // Read and parse outside the write: libphonenumber takes up to ~0.1 ms a number, which
      // must not be writer time. A row retention removes meanwhile is simply not updated.
      auto rows = db_.read([&](storage::Connection& c) { return missing(c, batch); });
      if (rows.empty()) return;
      for (auto& row : rows) {
        const PhoneFacts facts = phone_facts(row.phone, options_.phone_allow_prefixes);
        row.region = facts.region;
        row.number_type = facts.number_type;
      }
      db_.write([&](storage::Connection& c) {
        for (const auto& row : rows) set(c, row);
      });
      total += static_cast<int>(rows.size());
      if (static_cast<int>(rows.size()) < batch) return;
    }
  };
  fill(storage::otp::missing_phone_facts, storage::otp::set_phone_facts);
  fill(storage::identities::missing_phone_facts, storage::identities::set_phone_facts);
  return total;
}

int OtpService::expire_overdue() {
  int total = 0;
  while (true) {
    const std::string now = format_timestamp(clock_.now());
    // A read first: most passes find nothing and must not queue a write job for that.
    if (db_.read([&](storage::Connection& c) { return storage::otp::pending_expired(c, now, 1).empty(); })) break;
    const int closed = db_.write([&](storage::Connection& c) {
      auto rows = storage::otp::pending_expired(c, now, 500);
      for (auto& row : rows) close_request(c, row, "expired", kExpiredUnseen, now);
      return static_cast<int>(rows.size());
    });
    total += closed;
    if (closed < 500) break;
  }
  return total;
}

}  // namespace core
