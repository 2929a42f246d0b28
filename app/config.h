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

  // With PostgreSQL there is no file to sit next to, and every node must use the same key:
  // --key-file is required (runtime checks it).
  std::string key_file_path() const { return key_file.empty() ? db_path + ".key" : key_file; }
  bool postgres() const;
};

}  // namespace app
