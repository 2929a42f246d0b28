#include "app/runtime.h"

#include "app/delivery/webhook_transport.h"
#include "app/http/server.h"
#include "storage/key_file.h"
#include "storage/postgres/store.h"
#include "storage/server_meta.h"

namespace app {

bool Config::postgres() const { return storage::is_postgres_url(db_path); }

namespace {

core::PlanCatalog make_plans(const Config& config) {
  auto catalog = core::PlanCatalog::create(config.plans, config.default_plan);
  if (!catalog.ok()) throw http::StartupError(catalog.error().message);
  return catalog.value();
}

core::ServerKey open_server_key(const Config& config, core::Random& random) {
  storage::KeyBytes fresh{};
  random.fill(fresh);
  try {
    return core::ServerKey(storage::load_or_create_key_file(config.key_file_path(), fresh));
  } catch (const storage::KeyFileError& e) {
    throw http::StartupError(e.what());
  }
}

void check_firebase(const core::TokenOptions& tokens) {
  if (!tokens.firebase_project_id.empty() && tokens.firebase_certs_path.empty()) {
    throw http::StartupError("--firebase-project-id needs --firebase-certs (Google's kid → certificate JSON)");
  }
}

std::map<std::string, std::shared_ptr<core::SmsDriver>> make_drivers(const Config& config) {
  std::map<std::string, std::shared_ptr<core::SmsDriver>> drivers;
  if (config.otp.sms_driver == "http") {
    if (config.sms_http.url.empty()) throw http::StartupError("--sms-driver http needs --sms-http-url");
    drivers["http"] = delivery::make_http_driver(config.sms_http);
  }
  if (config.otp.sms_driver == "exec") {
    if (config.sms_exec.program.empty()) throw http::StartupError("--sms-driver exec needs --sms-exec PROGRAM");
    drivers["exec"] = delivery::make_exec_driver(config.sms_exec);
  }
  return drivers;
}

}  // namespace

// Several nodes share a PostgreSQL database, and a node with another key file would make codes,
// tokens and secrets that the others cannot check: the first node records a fingerprint of its
// key, and a node whose key differs refuses to start.
void check_shared_key(storage::Store& store, const core::ServerKey& key, const std::string& key_path) {
  const auto derived = key.derive("key-fingerprint");
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string fingerprint;
  for (std::size_t i = 0; i < 16; ++i) {
    fingerprint += kDigits[derived[i] >> 4];
    fingerprint += kDigits[derived[i] & 15];
  }
  const std::string stored = store.write(
      [&](storage::Connection& c) { return storage::server_meta::claim(c, "key_fingerprint", fingerprint); });
  if (stored != fingerprint) {
    throw http::StartupError("the key file '" + key_path +
                             "' is not the key this database's other nodes use: every node must use the same key file "
                             "(copy it from the first node and pass --key-file)");
  }
}


std::unique_ptr<storage::Store> open_database(const Config& config, const core::Clock& clock,
                                              core::ComponentMonitor* monitor) {
  std::function<void(std::string_view, std::string_view, std::string_view)> report;
  if (monitor != nullptr) {
    report = [monitor](std::string_view component, std::string_view kind, std::string_view reason) {
      if (kind.empty()) {
        monitor->recovered(component);
      } else {
        // A writer that cannot commit is a server that cannot do its job; a checkpointer that
        // fails only lets the WAL grow (the writer checkpoints a long one itself).
        monitor->failed(component, kind, reason,
                        component == "writer" ? core::Impact::kDegraded : core::Impact::kDependency);
      }
    };
  }
  try {
    if (config.postgres()) {
      return storage::PgStore::open({config.db_path, config.db_pool_size, report}, core::format_timestamp(clock.now()));
    }
    storage::DatabaseOptions options{config.db_path, config.durability};
    options.report = report;
    return storage::Database::open(options, core::format_timestamp(clock.now()));
  } catch (const std::exception& e) {
    throw http::StartupError(e.what());
  }
}

Runtime::Runtime(const Config& config, const core::Clock& clock, core::Random& random)
    : config_(config),
      clock_(clock),
      random_(random),
      plans_(make_plans(config_)),
      key_(open_server_key(config_, random_)),
      monitor_(clock_),
      database_(open_database(config_, clock_, &monitor_)) {
  check_firebase(config_.tokens);
  if (config_.postgres()) check_shared_key(*database_, key_, config_.key_file_path());
  tokens_ = std::make_unique<core::TokenService>(clock_, key_, config_.tokens);
  accounts_ = std::make_unique<core::AccountService>(*database_, clock_, random_, key_, *tokens_, plans_,
                                                     config_.accounts);
  projects_ = std::make_unique<core::ProjectService>(*database_, clock_, random_, plans_);
  applications_ = std::make_unique<core::ApplicationService>(*database_, clock_, random_, key_, plans_,
                                                            core::default_policy(static_cast<int>(config_.otp.ttl.count()),
                                                                                 config_.otp.message_template));
  delivery_ = std::make_unique<core::DeliveryWorker>(*database_, clock_, key_, make_drivers(config_),
                                                     config_.sms_delivery, &monitor_);
  webhook_transport_ = delivery::make_webhook_transport(
      {config_.webhooks.allow_http, config_.webhooks.allow_private, config_.webhooks.timeout});
  webhook_engine_ = std::make_unique<core::WebhookEngine>(*database_, clock_, random_, *applications_,
                                                          *webhook_transport_, config_.webhooks, &monitor_);
  webhooks_ = std::make_unique<core::WebhookService>(*database_, clock_, random_, *webhook_engine_);
  otp_ = std::make_unique<core::OtpService>(*database_, clock_, random_, key_, config_.otp,
                                            [worker = delivery_.get()] { worker->wake(); },
                                            [engine = webhook_engine_.get()] { engine->wake(); });
  analytics_ = std::make_unique<core::AnalyticsService>(*database_, clock_);
  idempotency_ = std::make_unique<core::IdempotencyService>(
      *database_, clock_, random_, key_, config_.idempotency_ttl,
      [worker = delivery_.get(), engine = webhook_engine_.get()] {
        worker->wake();
        engine->wake();
      });
  core::ReceiptOptions receipts = config_.receipts;
  receipts.issuer = config_.tokens.issuer;
  receipts_ = std::make_unique<core::ReceiptSigner>(*database_, clock_, random_, key_, std::move(receipts));
  otp_->sign_receipts_with(receipts_.get());
  abuse_ = std::make_unique<core::AbuseGuard>(
      *database_, clock_, *applications_,
      core::default_policy(static_cast<int>(config_.otp.ttl.count()), config_.otp.message_template));
  otp_->guard_abuse_with(abuse_.get());
}

}  // namespace app
