#include "app/cli.h"

#include "core/phone.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <vector>

#include "app/config_file.h"

namespace app {

namespace {

std::string env_name(const std::string& option) {
  std::string name = "COBINAR_";
  for (char c : option) name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

// "host:port" or "[v6]:port"; port 0 means any free port.
bool parse_listen(const std::string& text, http::HttpOptions& http) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  std::string host = text.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = text.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  const int value = std::stoi(port);
  if (value > 65535 || host.empty()) return false;
  http.host = host;
  http.port = value;
  return true;
}

}  // namespace

std::string version_line() {
  return "cobinar-phone " COBINAR_VERSION " (cpp-httplib " COBINAR_HTTPLIB_VERSION ", " COBINAR_ALLOCATOR
         ", libphonenumber metadata " + core::phone_metadata_version() + ")";
}

CliOutcome parse_command_line(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CliOutcome outcome;
  Config& config = outcome.config;

  CLI::App cli("Cobinar Phone Server: a self-hosted OTP and phone-identity API.\n"
               "Serving is the default command: `cobinar-phone --db data.sqlite` starts the server.\n"
               "Every option can also be set as COBINAR_<NAME> in the environment or as a key in\n"
               "the --config TOML file (command line > environment > file).",
               "cobinar-phone");
  cli.set_version_flag("--version", version_line());
  // The file is read by apply_config_file after the command line, so flags and COBINAR_*
  // variables (passed as leading flags, below) win over it.
  std::string config_file;
  cli.add_option("--config", config_file,
                 "Read options from this TOML 1.0 file: keys are the long option names (db = \"x.sqlite\"); types "
                 "are checked and unknown keys refused")
      ->envname("COBINAR_CONFIG")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::map<std::string, ConfigKey> config_keys;  // every option the file may set
  cli.require_subcommand(0, 1);

  auto add = [&](const std::string& name, auto& target, const std::string& help) {
    auto* option = cli.add_option("--" + name, target, help)->envname(env_name(name))->capture_default_str();
    // A repeated single-value option takes the last value (so flags override COBINAR_*);
    // list options collect every value.
    using Target = std::decay_t<decltype(target)>;
    if constexpr (!std::is_same_v<Target, std::vector<std::string>> && !std::is_same_v<Target, std::vector<int>>) {
      option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    }
    if constexpr (std::is_same_v<Target, std::string>) {
      config_keys[name] = {option, ConfigValueKind::kString};
    } else if constexpr (std::is_same_v<Target, int>) {
      config_keys[name] = {option, ConfigValueKind::kInteger};
    } else if constexpr (std::is_same_v<Target, double>) {
      config_keys[name] = {option, ConfigValueKind::kNumber};
    } else if constexpr (std::is_same_v<Target, std::vector<std::string>>) {
      config_keys[name] = {option, ConfigValueKind::kStringList};
    } else {
      static_assert(std::is_same_v<Target, std::vector<int>>, "a type the config file cannot set");
      config_keys[name] = {option, ConfigValueKind::kIntegerList};
    }
    return option;
  };

  std::string listen = "127.0.0.1:8080";
  std::string log_format = "text";
  std::string durability = "full";
  add("db", config.db_path,
      "SQLite database file (created if missing), or a postgres:// or postgresql:// URL (PostgreSQL; several nodes "
      "may share it)");
  add("key-file", config.key_file,
      "Server key file, created with mode 0600 on first start (default: <db>.key; with PostgreSQL "
      "./cobinar-phone.key, and every node must use the same file)");
  add("db-pool-size", config.db_pool_size, "PostgreSQL connections this node opens at most (SQLite: unused)")
      ->check(CLI::Range(2, 1000));
  add("listen", listen, "Address to serve on, host:port (port 0 = any free port)");
  add("threads", config.http.threads, "HTTP request workers (an open connection holds none while it waits)")->check(CLI::Range(1, 1024));
  add("max-connections", config.http.max_connections,
      "Most open client connections; a new one past it gets a fast 503 and is closed")
      ->check(CLI::Range(1, 1000000));
  auto seconds_of = [](std::chrono::milliseconds value) { return static_cast<double>(value.count()) / 1000.0; };
  double head_timeout = seconds_of(config.http.head_timeout), body_timeout = seconds_of(config.http.body_timeout),
         keep_alive_timeout = seconds_of(config.http.keep_alive_timeout);
  add("head-timeout", head_timeout,
      "Seconds for a request head to arrive, from the connection's start or the previous answer (then 408)")
      ->check(CLI::Range(0.1, 3600.0));
  add("body-timeout", body_timeout, "Seconds for a request body to arrive after its head (then 408)")
      ->check(CLI::Range(0.1, 3600.0));
  add("keep-alive-timeout", keep_alive_timeout, "Seconds an idle keep-alive connection stays open after an answer")
      ->check(CLI::Range(0.1, 3600.0));
  std::string metrics_listen;
  add("metrics-listen", metrics_listen,
      "Serve Prometheus metrics at GET /metrics on this separate host:port (default: off)");
  add("log-format", log_format, "Log line format: text or json")->check(CLI::IsMember({"text", "json"}));
  add("durability", durability,
      "full: an answered request survives power loss (synchronous=FULL); normal: survives a process crash")
      ->check(CLI::IsMember({"full", "normal"}));
  add("tls-cert", config.http.tls_cert, "PEM certificate chain: serve HTTPS (with --tls-key)")->check(CLI::ExistingFile);
  add("tls-key", config.http.tls_key, "PEM private key for --tls-cert")->check(CLI::ExistingFile);

  std::string signup = "closed";
  add("signup", signup, "open: anyone may POST /v1/auth/signup; closed: accounts come from the operator or Firebase")
      ->check(CLI::IsMember({"open", "closed"}));
  add("default-plan", config.default_plan, "Plan of new developers");
  add("plans", config.plans,
      "Extra or redefined plans, name:projects:applications (a number or 'unlimited'), e.g. team:50:20")
      ->delimiter(',');
  add("issuer", config.tokens.issuer, "iss and aud of the ID tokens this server issues");
  add("firebase-project-id", config.tokens.firebase_project_id,
      "Also accept Firebase ID tokens of this project (needs --firebase-certs)");
  add("firebase-certs", config.tokens.firebase_certs_path,
      "Google's securetoken kid → PEM certificate JSON; re-read when the file changes");
  add("login-rate-limit", config.accounts.login_rate_limit, "Login attempts per email and per client address per 15 minutes")
      ->check(CLI::Range(1, 1000000));

  int otp_ttl = static_cast<int>(config.otp.ttl.count());
  int sms_exec_timeout = static_cast<int>(config.sms_exec.timeout.count());
  add("otp-ttl-seconds", otp_ttl, "How long a code is valid")->check(CLI::Range(30, 86400));
  add("send-rate-limit", config.otp.send_rate_limit, "Sends per application per minute")->check(CLI::Range(1, 100000000));
  add("verify-rate-limit", config.otp.verify_rate_limit, "Verifies per application per minute")
      ->check(CLI::Range(1, 100000000));
  add("phone-send-limit", config.otp.phone_send_limit, "Sends per phone number and application per 10 minutes")
      ->check(CLI::Range(1, 100000000));
  add("phone-failure-limit", config.otp.phone_failure_limit,
      "Consecutive wrong codes per phone and application before that phone is locked for an hour")
      ->check(CLI::Range(1, 100000000));
  add("retention-days", config.retention_days, "Delete OTP requests, inbox messages and events older than this")
      ->check(CLI::Range(1, 36500));
  add("sms-driver", config.otp.sms_driver, "Delivery for real numbers of live apps: http or exec (a gateway), or inbox (kept in the server, for sandboxes); unset: such sends answer 503 SMS_NOT_CONFIGURED")
      ->check(CLI::IsMember({"inbox", "http", "exec"}));
  add("sms-template", config.otp.message_template,
      "The default policy's \"en\" message; placeholders {code} {app} {minutes} (per app: PUT /v1/applications/:id/policy)");
  add("phone-allow-prefix", config.otp.phone_allow_prefixes,
      "E.164 prefix (e.g. +4477009) whose numbers are valid whatever the metadata says (repeatable)")
      ->check(CLI::Validator(
          [](const std::string& prefix) -> std::string {
            const bool digits = prefix.size() >= 2 && prefix.size() <= 16 && prefix[0] == '+' && prefix[1] != '0' &&
                                prefix.find_first_not_of("0123456789", 1) == std::string::npos;
            return digits ? "" : "must be + and 1 to 15 digits, the first not 0 (an E.164 prefix such as +4477009)";
          },
          "E.164 prefix"));
  add("sms-http-url", config.sms_http.url, "http driver: gateway URL; {phone} {message} {code} {app} are URL-encoded");
  add("sms-http-method", config.sms_http.method, "http driver: GET or POST")->check(CLI::IsMember({"GET", "POST"}));
  add("sms-http-header", config.sms_http.headers, "http driver: extra header 'Name: value' (repeatable)");
  add("sms-http-body", config.sms_http.body, "http driver: POST body template (form- or JSON-escaped values)");
  add("sms-http-content-type", config.sms_http.content_type, "http driver: body type, form or JSON");
  add("sms-exec", config.sms_exec.program, "exec driver: program to run (no shell)");
  add("sms-exec-arg", config.sms_exec.args, "exec driver: one argument template (repeatable)");
  add("sms-exec-timeout", sms_exec_timeout, "exec driver: seconds before the program is killed")->check(CLI::Range(1, 600));

  std::vector<int> sms_retry_schedule = {5, 30, 120};
  add("sms-retry-schedule", sms_retry_schedule, "Seconds before each retry of a failed SMS delivery, e.g. 5,30,120")
      ->delimiter(',')
      ->check(CLI::Range(0, 86400));

  int idempotency_ttl_hours = static_cast<int>(config.idempotency_ttl.count());
  add("idempotency-ttl-hours", idempotency_ttl_hours, "How long an Idempotency-Key's first answer is kept for retries")
      ->check(CLI::Range(1, 168));
  int receipt_ttl = static_cast<int>(config.receipts.ttl.count());
  add("receipt-ttl-seconds", receipt_ttl, "Lifetime of a verification receipt (its exp)")->check(CLI::Range(60, 86400));
  int receipt_publish = static_cast<int>(config.receipts.publish_delay.count());
  add("receipt-key-publish-seconds", receipt_publish,
      "receipt-keys rotate: seconds a new key is published in the JWKS before it signs")
      ->check(CLI::Range(0, 86400));

  bool webhook_allow_http = false, webhook_allow_private = false;
  std::vector<int> webhook_retry_schedule;
  for (const auto& step : config.webhooks.retry_schedule) webhook_retry_schedule.push_back(static_cast<int>(step.count()));
  config_keys["webhook-allow-http"] = {
      cli.add_flag("--webhook-allow-http", webhook_allow_http, "Allow http:// webhook URLs (default: https only)")
          ->envname("COBINAR_WEBHOOK_ALLOW_HTTP"),
      ConfigValueKind::kBoolean};
  config_keys["webhook-allow-private"] = {
      cli.add_flag("--webhook-allow-private", webhook_allow_private,
                   "Allow webhook deliveries to loopback, private, link-local, CGNAT and metadata addresses")
          ->envname("COBINAR_WEBHOOK_ALLOW_PRIVATE"),
      ConfigValueKind::kBoolean};
  add("webhook-workers", config.webhooks.workers, "Webhook delivery threads")->check(CLI::Range(1, 64));
  int webhook_lease = static_cast<int>(config.webhooks.lease.count());
  add("webhook-lease", webhook_lease,
      "Seconds a claimed webhook delivery belongs to its worker; after a crash (of any node) it is retried then")
      ->check(CLI::Range(16, 3600));
  int sms_lease = static_cast<int>(config.sms_delivery.lease.count());
  add("sms-lease", sms_lease,
      "Seconds a claimed SMS job belongs to its worker; after a crash (of any node) it is retried then")
      ->check(CLI::Range(10, 3600));
  add("webhook-retry-schedule", webhook_retry_schedule, "Seconds between webhook delivery attempts, then failed")
      ->delimiter(',')
      ->check(CLI::Range(0, 604800));

  auto* serve = cli.add_subcommand("serve", "Serve the API (the default command)")->fallthrough();
  auto* migrate = cli.add_subcommand("migrate", "Apply pending schema migrations to --db and exit")->fallthrough();
  auto* version = cli.add_subcommand("version", "Print the version and exit")->fallthrough();

  DeveloperArgs& developer = outcome.developer;
  auto* developer_command = cli.add_subcommand("developer", "Manage developer accounts (works while a server runs)")
                                ->fallthrough()
                                ->require_subcommand(1);
  auto* create = developer_command->add_subcommand("create", "Create a developer account; prints it as JSON")->fallthrough();
  create->add_option("--email", developer.email, "Email address (unique, case-insensitive)")->required();
  create->add_option("--name", developer.name, "Display name");
  create->add_flag("--password-stdin", developer.password_stdin,
                   "Read a password (10+ characters) from the first line of stdin, for /v1/auth/login");
  create->add_option("--plan", developer.plan, "Plan (default: --default-plan)");
  auto* set_plan = developer_command->add_subcommand("set-plan", "Change a developer's plan")->fallthrough();
  set_plan->add_option("--email", developer.email, "Email address")->required();
  set_plan->add_option("--plan", developer.plan, "Plan name")->required();
  auto* list = developer_command->add_subcommand("list", "Print every developer as a JSON array")->fallthrough();
  auto* reset_password =
      developer_command
          ->add_subcommand("reset-password",
                           "Set a developer's password from the first line of stdin; ends all their sessions")
          ->fallthrough();
  reset_password->add_option("--email", developer.email, "Email address")->required();
  reset_password->add_flag("--password-stdin", developer.password_stdin, "Read the password (10+ characters) from stdin")
      ->required();
  auto* disable = developer_command
                      ->add_subcommand("disable",
                                       "Refuse a developer's tokens and logins (401) until enabled; ends all their "
                                       "sessions")
                      ->fallthrough();
  disable->add_option("--email", developer.email, "Email address")->required();
  auto* enable = developer_command->add_subcommand("enable", "Let a disabled developer sign in again")->fallthrough();
  enable->add_option("--email", developer.email, "Email address")->required();
  auto* token = cli.add_subcommand("token", "Print a fresh ID token for a developer (for scripts)")->fallthrough();
  token->add_option("--email", developer.email, "Email address")->required();

  BackupArgs& backup_args = outcome.backup;
  auto* backup = cli.add_subcommand("backup",
                                    "Write a consistent, integrity-checked copy of --db to a new file (works while a "
                                    "server runs); prints it as JSON")
                     ->fallthrough();
  backup->add_option("--out", backup_args.out, "The backup file to create (never overwritten)")->required();
  backup->add_flag("--with-key", backup_args.with_key, "Also copy the key file to FILE.key (mode 0600)");
  auto* restore = cli.add_subcommand("restore",
                                     "Replace --db with a backup file (the server must be stopped); the old database "
                                     "is kept as <db>.before-restore-<time>")
                      ->fallthrough();
  restore->add_option("--from", backup_args.from, "The backup file")->required();
  restore->add_flag("--with-key", backup_args.with_key, "Also restore the key file from FILE.key");
  MigrateDataArgs& migrate_data_args = outcome.migrate_data;
  auto* migrate_data = cli.add_subcommand("migrate-data",
                                          "Copy every row of an SQLite database into an empty PostgreSQL database "
                                          "(stop the server on the SQLite file first)")
                           ->fallthrough();
  migrate_data->add_option("--from", migrate_data_args.from, "The SQLite database file")->required();
  migrate_data->add_option("--to", migrate_data_args.to, "The PostgreSQL database, postgres://user@host/db")->required();

  ReceiptKeyArgs& receipt_key_args = outcome.receipt_keys;
  auto* receipt_keys = cli.add_subcommand("receipt-keys",
                                          "Manage the keys that sign verification receipts (works while a server "
                                          "runs; every node follows within 5 s)")
                           ->fallthrough()
                           ->require_subcommand(1);
  auto* keys_list = receipt_keys->add_subcommand("list", "Print every key as a JSON array, newest first")->fallthrough();
  auto* keys_rotate =
      receipt_keys
          ->add_subcommand("rotate",
                           "Publish a new key now; it signs from now + --receipt-key-publish-seconds (prints it)")
          ->fallthrough();
  auto* keys_retire = receipt_keys
                          ->add_subcommand("retire",
                                           "Remove a key from the JWKS now (a leaked key); retiring the signing key "
                                           "promotes the next one")
                          ->fallthrough();
  keys_retire->add_option("--kid", receipt_key_args.kid, "The key's kid")->required();
  auto* keys_export = receipt_keys->add_subcommand("export", "Write the public JWKS to a file")->fallthrough();
  keys_export->add_option("--out", receipt_key_args.out, "The file to write")->required();

  // Precedence is flag > environment > config file. CLI11 would let the file beat the
  // environment, so set variables are passed as leading flags that later real flags override.
  std::vector<std::string> args;
  for (const CLI::Option* option : cli.get_options()) {
    const std::string& variable = option->get_envname();
    if (variable.empty()) continue;
    if (const char* value = std::getenv(variable.c_str())) args.push_back(option->get_name() + "=" + value);
  }
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  std::reverse(args.begin(), args.end());  // CLI11 takes the vector back to front

  try {
    cli.parse(args);
  } catch (const CLI::CallForHelp& e) {
    outcome.exit_code = cli.exit(e, out, err);
    return outcome;
  } catch (const CLI::CallForAllHelp& e) {
    outcome.exit_code = cli.exit(e, out, err);
    return outcome;
  } catch (const CLI::CallForVersion& e) {
    outcome.exit_code = cli.exit(e, out, err);
    return outcome;
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    for (char& c : message) if (c == '\n') c = ' ';
    err << "cobinar-phone: " << message << " (see --help)\n";
    outcome.exit_code = 2;
    return outcome;
  }
  if (!config_file.empty()) {
    if (auto problem = apply_config_file(config_file, config_keys)) {
      err << "cobinar-phone: " << *problem << "\n";
      outcome.exit_code = 2;
      return outcome;
    }
  }

  if (!parse_listen(listen, config.http)) {
    err << "cobinar-phone: --listen: '" << listen << "' is not host:port (see --help)\n";
    outcome.exit_code = 2;
    return outcome;
  }
  if (!metrics_listen.empty()) {
    // A small listener of its own: a scrape every few seconds needs one worker, and its
    // requests stay out of the access log.
    http::HttpOptions metrics_http;
    metrics_http.threads = 1;
    metrics_http.max_connections = 64;
    metrics_http.access_log = false;
    if (!parse_listen(metrics_listen, metrics_http)) {
      err << "cobinar-phone: --metrics-listen: '" << metrics_listen << "' is not host:port (see --help)\n";
      outcome.exit_code = 2;
      return outcome;
    }
    config.metrics_http = metrics_http;
  }
  auto milliseconds_of = [](double seconds) { return std::chrono::milliseconds(std::llround(seconds * 1000.0)); };
  config.http.head_timeout = milliseconds_of(head_timeout);
  config.http.body_timeout = milliseconds_of(body_timeout);
  config.http.keep_alive_timeout = milliseconds_of(keep_alive_timeout);
  config.log_format = log_format == "json" ? LogFormat::kJson : LogFormat::kText;
  config.durability = durability == "normal" ? storage::Durability::kNormal : storage::Durability::kFull;
  if (migrate->parsed()) outcome.command = Command::kMigrate;
  if (version->parsed()) outcome.command = Command::kVersion;
  if (serve->parsed()) outcome.command = Command::kServe;
  if (create->parsed()) outcome.command = Command::kDeveloperCreate;
  if (set_plan->parsed()) outcome.command = Command::kDeveloperSetPlan;
  if (list->parsed()) outcome.command = Command::kDeveloperList;
  if (reset_password->parsed()) outcome.command = Command::kDeveloperResetPassword;
  if (disable->parsed()) outcome.command = Command::kDeveloperDisable;
  if (enable->parsed()) outcome.command = Command::kDeveloperEnable;
  if (token->parsed()) outcome.command = Command::kToken;
  if (backup->parsed()) outcome.command = Command::kBackup;
  if (restore->parsed()) outcome.command = Command::kRestore;
  if (migrate_data->parsed()) outcome.command = Command::kMigrateData;
  if (keys_list->parsed()) outcome.command = Command::kReceiptKeysList;
  if (keys_rotate->parsed()) outcome.command = Command::kReceiptKeysRotate;
  if (keys_retire->parsed()) outcome.command = Command::kReceiptKeysRetire;
  if (keys_export->parsed()) outcome.command = Command::kReceiptKeysExport;
  config.idempotency_ttl = std::chrono::hours(idempotency_ttl_hours);
  config.receipts.ttl = std::chrono::seconds(receipt_ttl);
  config.receipts.publish_delay = std::chrono::seconds(receipt_publish);
  config.accounts.signup_open = signup == "open";
  config.otp.ttl = std::chrono::seconds(otp_ttl);
  config.sms_exec.timeout = std::chrono::seconds(sms_exec_timeout);
  config.webhooks.allow_http = webhook_allow_http;
  config.webhooks.lease = std::chrono::seconds(webhook_lease);
  config.sms_delivery.lease = std::chrono::seconds(sms_lease);
  config.webhooks.allow_private = webhook_allow_private;
  config.webhooks.retry_schedule.clear();
  for (int seconds : webhook_retry_schedule) config.webhooks.retry_schedule.emplace_back(seconds);
  config.sms_delivery.retry_schedule.clear();
  for (int seconds : sms_retry_schedule) config.sms_delivery.retry_schedule.emplace_back(seconds);
  return outcome;
}

}  // namespace app
