// Everything the server is configured with, after CLI flags, COBINAR_* variables and the
// --config file have been merged (in that order of precedence). Plain values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/delivery/drivers.h"
#include "app/http/server.h"
#include "app/log.h"
#include "core/accounts.h"
#include "core/otp.h"
#include "core/receipts.h"
#include "core/webhooks.h"
#include "core/tokens.h"
#include "storage/sqlite/database.h"

namespace app {

struct Config {
  std::string db_path = "data.sqlite";
  std::string key_file;  // empty = "<db_path>.key"
  LogFormat log_format = LogFormat::kText;
  storage::Durability durability = storage::Durability::kFull;  // SQLite only
  int db_pool_size = 16;  // --db-pool-size: PostgreSQL connections per node
  http::HttpOptions http;
  // --metrics-listen: Prometheus metrics at /metrics on this separate listener; nullopt = off.
  std::optional<http::HttpOptions> metrics_http;

  // Console identity.
  core::AccountOptions accounts;
  core::TokenOptions tokens;
  std::string default_plan = "free";
  std::vector<std::string> plans;  // "name:projects:applications", added to free and unlimited

  // OTP engine and delivery.
  core::OtpOptions otp;
  int retention_days = 90;
  delivery::HttpDriverOptions sms_http;
  delivery::ExecDriverOptions sms_exec;
  core::DeliveryOptions sms_delivery;

  // Webhooks.
  core::WebhookOptions webhooks;

  // Retries and receipts (SPEC §16). receipts.issuer is tokens.issuer.
  std::chrono::hours idempotency_ttl{24};  // --idempotency-ttl-hours
  core::ReceiptOptions receipts;           // --receipt-ttl-seconds, --receipt-key-publish-seconds

  // With PostgreSQL there is no database file to sit next to: cobinar-phone.key in the working
  // directory. Every node must use the same key; the runtime checks it against the database.
  std::string key_file_path() const {
    if (!key_file.empty()) return key_file;
    return postgres() ? "cobinar-phone.key" : db_path + ".key";
  }
  bool postgres() const;
};

}  // namespace app
