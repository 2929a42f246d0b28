// Everything but the HTTP edge: key, store and core services, wired from a Config. Shared by
// the server and the CLI commands, so both apply the same rules. Thread-safe after construction.
#pragma once

#include <memory>

#include "app/config.h"
#include "core/accounts.h"
#include "core/analytics.h"
#include "core/applications.h"
#include "core/delivery.h"
#include "core/idempotency.h"
#include "core/otp.h"
#include "core/receipts.h"
#include "core/webhooks.h"
#include "core/projects.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/monitor.h"
#include "core/plans.h"
#include "core/random.h"
#include "core/tokens.h"
#include "storage/store.h"

namespace app {

// Opens and migrates the database alone (the `migrate` command); throws http::StartupError.
// `monitor`, if given, hears the failures of the store's own threads.
std::unique_ptr<storage::Store> open_database(const Config& config, const core::Clock& clock,
                                              core::ComponentMonitor* monitor = nullptr);

// With PostgreSQL: records the fingerprint of `key` in the database if none is there yet, and
// throws http::StartupError if another key's is (nodes must share one key file).
void check_shared_key(storage::Store& store, const core::ServerKey& key, const std::string& key_path);

class Runtime {
 public:
  // Opens the key file (creating it, 0600) and the database (migrating it); throws
  // http::StartupError with a one-line reason.
  Runtime(const Config& config, const core::Clock& clock, core::Random& random);

  const Config& config() const { return config_; }
  const core::Clock& clock() const { return clock_; }
  storage::Store& database() { return *database_; }
  core::AccountService& accounts() { return *accounts_; }
  core::ProjectService& projects() { return *projects_; }
  core::ApplicationService& applications() { return *applications_; }
  core::OtpService& otp() { return *otp_; }
  core::IdempotencyService& idempotency() { return *idempotency_; }
  core::ReceiptSigner& receipts() { return *receipts_; }
  core::AbuseGuard& abuse() { return *abuse_; }
  // Not started here: the server starts it; CLI commands never deliver.
  core::DeliveryWorker& delivery() { return *delivery_; }
  core::WebhookEngine& webhook_engine() { return *webhook_engine_; }
  core::WebhookService& webhooks() { return *webhooks_; }
  core::AnalyticsService& analytics() { return *analytics_; }
  core::TokenService& tokens() { return *tokens_; }
  // What the background components report (the server gives it a log sink).
  core::ComponentMonitor& monitor() { return monitor_; }

 private:
  Config config_;
  const core::Clock& clock_;
  core::Random& random_;
  core::PlanCatalog plans_;
  core::ServerKey key_;
  core::ComponentMonitor monitor_;
  std::unique_ptr<storage::Store> database_;
  std::unique_ptr<core::TokenService> tokens_;
  std::unique_ptr<core::AccountService> accounts_;
  std::unique_ptr<core::ProjectService> projects_;
  std::unique_ptr<core::ApplicationService> applications_;
  std::unique_ptr<core::DeliveryWorker> delivery_;
  std::unique_ptr<core::WebhookTransport> webhook_transport_;
  std::unique_ptr<core::WebhookEngine> webhook_engine_;
  std::unique_ptr<core::WebhookService> webhooks_;
  std::unique_ptr<core::IdempotencyService> idempotency_;
  std::unique_ptr<core::ReceiptSigner> receipts_;
  std::unique_ptr<core::AbuseGuard> abuse_;
  std::unique_ptr<core::OtpService> otp_;
  std::unique_ptr<core::AnalyticsService> analytics_;
};

}  // namespace app
