#include "app/commands.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "app/application.h"
#include "app/http/render.h"
#include "storage/key_file.h"
#include "storage/migrate_data.h"
#include "storage/postgres/connection.h"
#include "storage/sqlite/backup.h"
#include "storage/sqlite/db_lock.h"

namespace app {

namespace {

void print_failure(const std::string& message) { std::cerr << "cobinar-phone: " << message << "\n"; }

// Serves until SIGTERM or SIGINT, then lets in-flight requests finish and exits 0.
int serve(const Config& config) {
  core::SystemClock clock;
  core::SodiumRandom random;
  Log log(config.log_format, clock);

  // Signals are taken by one thread with sigwait, never by an async handler, so the stop path
  // can run ordinary code. The mask must be set before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGUSR1);  // internal: wakes the signal thread when serving ends otherwise
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // A file size limit (ulimit -f) then shows as a failed write the health report names, not
  // as a silent kill.
  ::signal(SIGXFSZ, SIG_IGN);

  // Declared first so it is released last, after the database is closed.
  std::optional<storage::DatabaseLock> lock;
  std::unique_ptr<Application> application;
  int port = 0;
  try {
    // Before the key file and the database are touched: a second server changes nothing.
    // PostgreSQL is shared by design: several nodes serve one database.
    if (!config.postgres()) lock.emplace(storage::DatabaseLock::acquire(config.db_path));
    application = std::make_unique<Application>(config, Environment{clock, random, log});
    port = application->bind();
  } catch (const std::exception& e) {
    print_failure(e.what());
    return 1;
  }

  std::thread signal_thread([&] {
    while (true) {
      int received = 0;
      sigwait(&signals, &received);
      if (received == SIGHUP) {
        application->reload();
        continue;
      }
      if (received != SIGUSR1) {
        log.info("shutting down", {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}});
        application->stop();
      }
      return;
    }
  });

  log.info("listening", {{"address", config.http.host + ":" + std::to_string(port)},
                         {"scheme", config.http.tls_cert.empty() ? "http" : "https"},
                         {"db", config.db_path},
                         {"version", COBINAR_VERSION}});
  if (config.otp.sms_driver.empty()) {
    log.warn("live SMS delivery is not configured: a live application's send to a real number answers 503 "
             "SMS_NOT_CONFIGURED; set --sms-driver http or exec (or inbox for a sandbox)");
  }
  if (config.metrics_http) {
    log.info("metrics listening", {{"address", config.metrics_http->host + ":" + std::to_string(application->metrics_port())},
                                   {"path", "/metrics"}});
  }
  application->run();
  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();
  application.reset();  // closes the database (and checkpoints the WAL)
  log.info("stopped");
  return 0;
}

int migrate(const Config& config) {
  core::SystemClock clock;
  try {
    const auto outcome = open_database(config, clock)->migration();
    if (outcome.from_version == outcome.to_version) {
      std::cout << "schema is up to date (version " << outcome.to_version << ")\n";
    } else {
      std::cout << "migrated schema from version " << outcome.from_version << " to " << outcome.to_version << "\n";
    }
    return 0;
  } catch (const std::exception& e) {
    print_failure(e.what());
    return 1;
  }
}

// Runs `action(runtime)` against the configured database and key; prints its error if any.
template <typename Action>
int with_runtime(const Config& config, Action action) {
  core::SystemClock clock;
  core::SodiumRandom random;
  try {
    Runtime runtime(config, clock, random);
    return action(runtime);
  } catch (const std::exception& e) {
    print_failure(e.what());
    return 1;
  }
}

// The first line of stdin, without its line ending.
std::string read_password_line() {
  std::string line;
  std::getline(std::cin, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// What the account commands print: the console's developer object plus the operator's status.
nlohmann::json operator_developer_json(const core::Developer& developer) {
  nlohmann::json json = http::developer_json(developer);
  json["disabled"] = developer.disabled_at.has_value();
  json["disabledAt"] = developer.disabled_at ? nlohmann::json(*developer.disabled_at) : nlohmann::json(nullptr);
  return json;
}

// A command's answer about one developer: the JSON on stdout and 0, or the error and 1.
int print_developer(const core::Result<core::Developer>& result,
                    nlohmann::json (*render)(const core::Developer&) = http::developer_json) {
  if (!result.ok()) {
    print_failure(result.error().message);
    return 1;
  }
  std::cout << render(result.value()).dump() << "\n";
  return 0;
}

int developer_create(const Config& config, const DeveloperArgs& args) {
  std::optional<std::string> password;
  if (args.password_stdin) password = read_password_line();
  return with_runtime(config, [&](Runtime& runtime) {
    return print_developer(runtime.accounts().create_developer(
        {args.email, args.name, "", password, args.plan.empty() ? std::nullopt : std::optional(args.plan)}));
  });
}

int developer_set_plan(const Config& config, const DeveloperArgs& args) {
  return with_runtime(config, [&](Runtime& runtime) {
    return print_developer(runtime.accounts().set_plan(args.email, args.plan));
  });
}

int developer_list(const Config& config) {
  return with_runtime(config, [&](Runtime& runtime) {
    nlohmann::json developers = nlohmann::json::array();
    for (const auto& developer : runtime.accounts().list_developers()) {
      developers.push_back(operator_developer_json(developer));
    }
    std::cout << developers.dump(2) << "\n";
    return 0;
  });
}

int developer_reset_password(const Config& config, const DeveloperArgs& args) {
  const std::string password = read_password_line();
  return with_runtime(config, [&](Runtime& runtime) {
    return print_developer(runtime.accounts().reset_password(args.email, password), operator_developer_json);
  });
}

int developer_set_disabled(const Config& config, const DeveloperArgs& args, bool disabled) {
  return with_runtime(config, [&](Runtime& runtime) {
    return print_developer(runtime.accounts().set_disabled(args.email, disabled), operator_developer_json);
  });
}

int token(const Config& config, const DeveloperArgs& args) {
  return with_runtime(config, [&](Runtime& runtime) {
    auto issued = runtime.accounts().issue_token(args.email);
    if (!issued.ok()) {
      print_failure(issued.error().message);
      return 1;
    }
    std::cout << issued.value() << "\n";
    return 0;
  });
}

// receipt-keys (SPEC §16): the server's key ring through the same core as the server, so a
// running server (every node) follows within its 2 s reload.
nlohmann::json receipt_keys_json(core::ReceiptSigner& receipts) {
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& key : receipts.list()) keys.push_back(http::receipt_key_json(key));
  return keys;
}

int receipt_keys_list(const Config& config) {
  return with_runtime(config, [&](Runtime& runtime) {
    std::cout << receipt_keys_json(runtime.receipts()).dump(2) << "\n";
    return 0;
  });
}

int receipt_keys_rotate(const Config& config) {
  return with_runtime(config, [&](Runtime& runtime) {
    runtime.receipts().ensure_signing_key();
    const std::string kid = runtime.receipts().rotate(config.receipts.publish_delay);
    for (const auto& key : receipt_keys_json(runtime.receipts())) {
      if (key["kid"] == kid) std::cout << key.dump(2) << "\n";
    }
    return 0;
  });
}

int receipt_keys_retire(const Config& config, const ReceiptKeyArgs& args) {
  return with_runtime(config, [&](Runtime& runtime) {
    const auto retired = runtime.receipts().retire(args.kid);
    if (!retired.ok()) {
      print_failure(retired.error().message);
      return 1;
    }
    std::cout << receipt_keys_json(runtime.receipts()).dump(2) << "\n";
    return 0;
  });
}

int receipt_keys_export(const Config& config, const ReceiptKeyArgs& args) {
  return with_runtime(config, [&](Runtime& runtime) {
    runtime.receipts().ensure_signing_key();
    const nlohmann::json jwks = runtime.receipts().jwks();
    const std::string temporary = args.out + ".tmp";
    {
      std::ofstream file(temporary, std::ios::trunc);
      file << jwks.dump(2) << "\n";
      if (!file) {
        print_failure("cannot write '" + temporary + "'");
        return 1;
      }
    }
    if (std::rename(temporary.c_str(), args.out.c_str()) != 0) {
      print_failure("cannot write '" + args.out + "'");
      return 1;
    }
    std::cout << nlohmann::json{{"out", args.out}, {"keys", jwks["keys"].size()}}.dump(2) << "\n";
    return 0;
  });
}

nlohmann::ordered_json path_or_null(const std::optional<std::string>& path) {
  return path ? nlohmann::ordered_json(*path) : nlohmann::ordered_json(nullptr);
}

// Takes no lock: the copy is one read transaction, which a running server does not notice.
// backup and restore copy an SQLite file; PostgreSQL has its own tools for that.
bool refuse_postgres(const Config& config, const char* command) {
  if (!config.postgres()) return false;
  print_failure(std::string(command) + " works on an SQLite --db; for a PostgreSQL database use pg_dump " +
                "(e.g. pg_dump -Fc -f cobinar.dump '" + storage::redact_url(config.db_path) +
                "') and pg_restore, and keep a copy of the --key-file with it");
  return true;
}

int backup(const Config& config, const BackupArgs& args) {
  if (refuse_postgres(config, "backup")) return 2;
  try {
    const auto written = storage::backup_database(config.db_path, args.out,
                                                  args.with_key ? std::optional(config.key_file_path()) : std::nullopt);
    std::cout << nlohmann::ordered_json{{"backup", written.path},
                                        {"bytes", written.bytes},
                                        {"schemaVersion", written.schema_version},
                                        {"integrity", "ok"},
                                        {"key", path_or_null(written.key_path)}}
                             .dump()
              << "\n";
    return 0;
  } catch (const std::exception& e) {
    print_failure(e.what());
    return 1;
  }
}

int migrate_data(const Config& config, const MigrateDataArgs& args) {
  if (!storage::is_postgres_url(args.to)) {
    print_failure("--to must be a postgres:// or postgresql:// URL");
    return 2;
  }
  try {
    // No server may write to the file while it is copied.
    std::optional<storage::DatabaseLock> lock;
    try {
      lock.emplace(storage::DatabaseLock::acquire(args.from));
    } catch (const storage::LockError& e) {
      const std::string reason = e.what();
      if (reason.starts_with("cannot ")) throw;
      throw storage::LockError("a server is running on '" + args.from + "'; stop it before migrate-data (" + reason + ")");
    }
    core::SystemClock clock;
    const auto copied = storage::migrate_data(args.from, args.to, core::format_timestamp(clock.now()));
    nlohmann::ordered_json tables = nlohmann::ordered_json::object();
    for (const auto& [table, rows] : copied.tables) tables[table] = rows;
    const std::string key = config.key_file.empty() ? args.from + ".key" : config.key_file;
    // The nodes must use this key: record it, so a node started with another one refuses.
    if (std::filesystem::exists(key)) {
      storage::KeyBytes unused{};
      const core::ServerKey server_key(storage::load_or_create_key_file(key, unused));
      Config target = config;
      target.db_path = args.to;
      check_shared_key(*open_database(target, clock), server_key, key);
    }
    std::cout << nlohmann::ordered_json{{"from", args.from},
                                        {"to", storage::redact_url(args.to)},
                                        {"schemaVersion", copied.schema_version},
                                        {"rows", tables},
                                        {"keyFile", key}}
                             .dump()
              << "\n";
    std::cerr << "Start every node with --db '" << storage::redact_url(args.to) << "' --key-file " << key
              << " (the same key file on each node).\n";
    return 0;
  } catch (const std::exception& e) {
    print_failure(e.what());
    return 1;
  }
}

// "20261201T131606Z": the suffix of the files a restore keeps.
std::string utc_stamp() {
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  gmtime_r(&now, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &parts);
  return text;
}

int restore(const Config& config, const BackupArgs& args) {
  if (refuse_postgres(config, "restore")) return 2;
  try {
    // Held until the end: no server starts on the database while it is being replaced.
    std::optional<storage::DatabaseLock> lock;
    try {
      lock.emplace(storage::DatabaseLock::acquire(config.db_path));
    } catch (const storage::LockError& e) {
      const std::string reason = e.what();
      if (reason.starts_with("cannot ")) throw;
      throw storage::LockError("a server is running on '" + config.db_path + "'; stop it before restoring (" + reason + ")");
    }
    const auto restored = storage::restore_database(
        args.from, config.db_path, args.with_key ? std::optional(config.key_file_path()) : std::nullopt, utc_stamp());
    std::cout << nlohmann::ordered_json{{"restored", restored.db_path},
                                        {"from", args.from},
                                        {"bytes", restored.bytes},
                                        {"schemaVersion", restored.schema_version},
                                        {"integrity", "ok"},
                                        {"previous", path_or_null(restored.previous)},
                                        {"key", path_or_null(restored.key_path)},
                                        {"previousKey", path_or_null(restored.previous_key)},
                                        {"migrateOnStart", restored.schema_version < storage::latest_schema_version()}}
                             .dump()
              << "\n";
    return 0;
  } catch (const std::exception& e) {
    print_failure(e.what());
    return 1;
  }
}

}  // namespace

int run_command(const CliOutcome& outcome) {
  if (!core::crypto_init()) {
    print_failure("libsodium cannot be initialised");
    return 1;
  }
  switch (outcome.command) {
    case Command::kServe: return serve(outcome.config);
    case Command::kMigrate: return migrate(outcome.config);
    case Command::kDeveloperCreate: return developer_create(outcome.config, outcome.developer);
    case Command::kDeveloperSetPlan: return developer_set_plan(outcome.config, outcome.developer);
    case Command::kDeveloperList: return developer_list(outcome.config);
    case Command::kDeveloperResetPassword: return developer_reset_password(outcome.config, outcome.developer);
    case Command::kDeveloperDisable: return developer_set_disabled(outcome.config, outcome.developer, true);
    case Command::kDeveloperEnable: return developer_set_disabled(outcome.config, outcome.developer, false);
    case Command::kToken: return token(outcome.config, outcome.developer);
    case Command::kBackup: return backup(outcome.config, outcome.backup);
    case Command::kRestore: return restore(outcome.config, outcome.backup);
    case Command::kMigrateData: return migrate_data(outcome.config, outcome.migrate_data);
    case Command::kReceiptKeysList: return receipt_keys_list(outcome.config);
    case Command::kReceiptKeysRotate: return receipt_keys_rotate(outcome.config);
    case Command::kReceiptKeysRetire: return receipt_keys_retire(outcome.config, outcome.receipt_keys);
    case Command::kReceiptKeysExport: return receipt_keys_export(outcome.config, outcome.receipt_keys);
    case Command::kVersion:
      std::cout << version_line() << "\n";
      return 0;
  }
  return 1;
}

}  // namespace app
