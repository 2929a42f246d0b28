#include "app/cli.h"

#include <doctest/doctest.h>

#include "core/phone.h"
#include <stdlib.h>

#include <sstream>

#include "tests/support/temp_dir.h"

namespace {

struct Parsed {
  app::CliOutcome outcome;
  std::string out;
  std::string err;
};

Parsed parse(std::vector<const char*> args) {
  args.insert(args.begin(), "cobinar-phone");
  std::ostringstream out, err;
  Parsed parsed{app::parse_command_line(static_cast<int>(args.size()), args.data(), out, err), "", ""};
  parsed.out = out.str();
  parsed.err = err.str();
  return parsed;
}

// Sets an environment variable for the scope of one test.
struct ScopedEnv {
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }
  const char* name_;
};

}  // namespace

TEST_CASE("serve is the default command with documented defaults") {
  const auto parsed = parse({});
  REQUIRE_FALSE(parsed.outcome.exit_code.has_value());
  CHECK(parsed.outcome.command == app::Command::kServe);
  const auto& config = parsed.outcome.config;
  CHECK(config.db_path == "data.sqlite");
  CHECK(config.key_file_path() == "data.sqlite.key");
  CHECK(config.http.host == "127.0.0.1");
  CHECK(config.http.port == 8080);
  CHECK(config.durability == storage::Durability::kFull);
  CHECK(config.log_format == app::LogFormat::kText);
  CHECK_FALSE(config.metrics_http.has_value());  // metrics are served only when asked for
}

TEST_CASE("--metrics-listen comes from the flag, COBINAR_METRICS_LISTEN or the metrics-listen key") {
  const auto from_flag = parse({"--metrics-listen", "127.0.0.1:9100"});
  REQUIRE_FALSE(from_flag.outcome.exit_code.has_value());
  REQUIRE(from_flag.outcome.config.metrics_http.has_value());
  CHECK(from_flag.outcome.config.metrics_http->host == "127.0.0.1");
  CHECK(from_flag.outcome.config.metrics_http->port == 9100);
  CHECK(from_flag.outcome.config.metrics_http->threads == 1);
  CHECK_FALSE(from_flag.outcome.config.metrics_http->access_log);
  CHECK(from_flag.outcome.config.http.port == 8080);  // the API listener is untouched

  testing::TempDir dir;
  const std::string file = dir.file("cobinar.toml");
  testing::write_file(file, "metrics-listen = \"[::1]:9101\"\n");
  const auto from_file = parse({"--config", file.c_str()});
  REQUIRE(from_file.outcome.config.metrics_http.has_value());
  CHECK(from_file.outcome.config.metrics_http->host == "::1");
  CHECK(from_file.outcome.config.metrics_http->port == 9101);

  ScopedEnv env("COBINAR_METRICS_LISTEN", "0.0.0.0:9102");
  const auto from_env = parse({});
  REQUIRE(from_env.outcome.config.metrics_http.has_value());
  CHECK(from_env.outcome.config.metrics_http->port == 9102);

  const auto bad = parse({"--metrics-listen", "9100"});
  REQUIRE(bad.outcome.exit_code.has_value());
  CHECK(*bad.outcome.exit_code == 2);
  CHECK(bad.err.find("--metrics-listen") != std::string::npos);
}

TEST_CASE("options are accepted before or after the command name") {
  const auto before = parse({"--db", "x.sqlite", "migrate"});
  CHECK(before.outcome.command == app::Command::kMigrate);
  CHECK(before.outcome.config.db_path == "x.sqlite");
  const auto after = parse({"serve", "--db", "y.sqlite", "--listen", "[::1]:0", "--durability", "normal",
                            "--log-format", "json", "--threads", "4", "--key-file", "k"});
  REQUIRE_FALSE(after.outcome.exit_code.has_value());
  const auto& config = after.outcome.config;
  CHECK(config.db_path == "y.sqlite");
  CHECK(config.http.host == "::1");
  CHECK(config.http.port == 0);
  CHECK(config.durability == storage::Durability::kNormal);
  CHECK(config.log_format == app::LogFormat::kJson);
  CHECK(config.http.threads == 4);
  CHECK(config.key_file_path() == "k");
}

TEST_CASE("options come from COBINAR_* variables and the config file, flags winning") {
  testing::TempDir dir;
  const std::string file = dir.file("cobinar.toml");
  testing::write_file(file, "# comment\ndb = \"from-file.sqlite\"\nlisten = \"127.0.0.1:9001\"\nthreads = 3\n");

  const auto from_file = parse({"--config", file.c_str()});
  REQUIRE_FALSE(from_file.outcome.exit_code.has_value());
  CHECK(from_file.outcome.config.db_path == "from-file.sqlite");
  CHECK(from_file.outcome.config.http.port == 9001);
  CHECK(from_file.outcome.config.http.threads == 3);

  ScopedEnv env("COBINAR_LISTEN", "127.0.0.1:9002");
  ScopedEnv config_env("COBINAR_CONFIG", file.c_str());
  const auto from_env = parse({});
  CHECK(from_env.outcome.config.db_path == "from-file.sqlite");
  CHECK(from_env.outcome.config.http.port == 9002);

  const auto from_flag = parse({"--listen", "127.0.0.1:9003"});
  CHECK(from_flag.outcome.config.http.port == 9003);
}

TEST_CASE("bad input is one line on stderr and exit code 2") {
  testing::TempDir dir;
  const std::string bad_config = dir.file("bad.toml");
  testing::write_file(bad_config, "no_such_option = 1\n");
  const std::string missing = dir.file("missing.toml");
  const std::vector<std::vector<const char*>> cases = {
      {"--no-such-flag"},
      {"--listen", "nonsense"},
      {"--listen", "127.0.0.1:70000"},
      {"--durability", "sometimes"},
      {"--threads", "0"},
      {"--config", bad_config.c_str()},
      {"--config", missing.c_str()},
      {"frobnicate"},
  };
  for (const auto& args : cases) {
    CAPTURE(args[0]);
    const auto parsed = parse(args);
    REQUIRE(parsed.outcome.exit_code.has_value());
    CHECK(*parsed.outcome.exit_code == 2);
    CHECK(parsed.err.starts_with("cobinar-phone: "));
    CHECK(parsed.err.find('\n') == parsed.err.size() - 1);
  }
}

TEST_CASE("the config file is TOML 1.0 with typed keys: every refusal is exit 2 and one line naming file, line and key") {
  testing::TempDir dir;
  struct Case {
    std::string name;
    std::string toml;
    std::string expected;  // after "cobinar-phone: <file>:"
  };
  const std::vector<Case> cases = {
      {"unquoted string", "# x\ndb = x.sqlite\n", "2:6: syntax error: "},
      {"unterminated string", "listen = \"127.0.0.1:0\"\ndb = \"x.sqlite\n", "2:"},
      {"not TOML at all", "listen = [this is not toml\n", "1:"},
      {"duplicate key", "db = \"a\"\ndb = \"b\"\n", "2:"},
      {"string for a boolean", "webhook-allow-http = \"yes\"\n", "1: key 'webhook-allow-http': expected true or false, not a string"},
      {"string for an integer", "\nthreads = \"8\"\n", "2: key 'threads': expected an integer, not a string"},
      {"float for an integer", "threads = 8.0\n", "1: key 'threads': expected an integer, not a float"},
      {"integer for a string", "db = 5\n", "1: key 'db': expected a string, not an integer"},
      {"string for a number", "head-timeout = \"10\"\n", "1: key 'head-timeout': expected a finite number, not a string"},
      {"nan for a number", "head-timeout = nan\n", "1: key 'head-timeout': expected a finite number, not a float"},
      {"string for a list", "plans = \"team:5:5\"\n", "1: key 'plans': expected a non-empty array of strings, not a string"},
      {"strings in an integer list", "sms-retry-schedule = [\"5\", \"30\"]\n",
       "1: key 'sms-retry-schedule': expected a non-empty array of integers, not an array"},
      {"empty list", "webhook-retry-schedule = []\n", "1: key 'webhook-retry-schedule': expected a non-empty array of integers"},
      {"unknown key, near miss", "db = \"x\"\n\nlog_format = \"json\"\n",
       "3: key 'log_format': unknown option (did you mean 'log-format'?)"},
      {"unknown key", "no_such_option = 1\n", "1: key 'no_such_option': unknown option"},
      {"a command's option is not a file key", "email = \"a@example.com\"\n", "1: key 'email': unknown option"},
      {"config is not a file key", "config = \"other.toml\"\n", "1: key 'config': unknown option"},
      {"a table", "[server]\ndb = \"x\"\n", "1: key 'server': unknown option (tables are not used"},
      {"a value its option refuses", "threads = 0\n", "1: key 'threads': --threads: Value 0 not in range"},
      {"a word its option refuses", "durability = \"sometimes\"\n", "1: key 'durability': "},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const std::string file = dir.file("case.toml");
    testing::write_file(file, c.toml);
    const auto parsed = parse({"--config", file.c_str()});
    REQUIRE(parsed.outcome.exit_code.has_value());
    CHECK(*parsed.outcome.exit_code == 2);
    CHECK_MESSAGE(parsed.err.starts_with("cobinar-phone: " + file + ":" + c.expected), parsed.err);
    CHECK(parsed.err.find('\n') == parsed.err.size() - 1);
  }
}

TEST_CASE("every kind of config key reaches its option; flags and COBINAR_* variables win over the file") {
  testing::TempDir dir;
  const std::string file = dir.file("cobinar.toml");
  testing::write_file(file,
                      "db = \"file.sqlite\"\n"
                      "threads = 3\n"
                      "head-timeout = 2.5\n"
                      "body-timeout = 7        # an integer where seconds are a float\n"
                      "webhook-allow-http = true\n"
                      "webhook-allow-private = false\n"
                      "plans = [\"team:50:20\", \"solo:1:1\"]\n"
                      "sms-http-header = [\"X-A: 1, 2\", \"X-B: 3\"]\n"
                      "sms-retry-schedule = [1, 2, 3]\n"
                      "webhook-retry-schedule = [10]\n"
                      "log-format = \"json\"\n");
  const auto parsed = parse({"--config", file.c_str()});
  REQUIRE_MESSAGE(!parsed.outcome.exit_code.has_value(), parsed.err);
  const auto& config = parsed.outcome.config;
  CHECK(config.db_path == "file.sqlite");
  CHECK(config.http.threads == 3);
  CHECK(config.http.head_timeout == std::chrono::milliseconds(2500));
  CHECK(config.http.body_timeout == std::chrono::milliseconds(7000));
  CHECK(config.webhooks.allow_http);
  CHECK_FALSE(config.webhooks.allow_private);
  CHECK(config.plans == std::vector<std::string>{"team:50:20", "solo:1:1"});
  CHECK(config.sms_http.headers == std::vector<std::string>{"X-A: 1, 2", "X-B: 3"});
  CHECK(config.sms_delivery.retry_schedule == std::vector<std::chrono::seconds>{std::chrono::seconds(1), std::chrono::seconds(2), std::chrono::seconds(3)});
  CHECK(config.webhooks.retry_schedule == std::vector<std::chrono::seconds>{std::chrono::seconds(10)});
  CHECK(config.log_format == app::LogFormat::kJson);

  // Command line > environment > file > default, lists included (a list is taken whole from
  // the first source that sets it).
  ScopedEnv threads("COBINAR_THREADS", "5");
  ScopedEnv plans("COBINAR_PLANS", "env:2:2");
  const auto overridden = parse({"--config", file.c_str(), "--db", "flag.sqlite", "--sms-retry-schedule", "9"});
  REQUIRE_MESSAGE(!overridden.outcome.exit_code.has_value(), overridden.err);
  CHECK(overridden.outcome.config.db_path == "flag.sqlite");
  CHECK(overridden.outcome.config.http.threads == 5);
  CHECK(overridden.outcome.config.plans == std::vector<std::string>{"env:2:2"});
  CHECK(overridden.outcome.config.sms_delivery.retry_schedule == std::vector<std::chrono::seconds>{std::chrono::seconds(9)});
  CHECK(overridden.outcome.config.http.head_timeout == std::chrono::milliseconds(2500));
  const auto flag_wins = parse({"--config", file.c_str(), "--threads", "6"});
  CHECK(flag_wins.outcome.config.http.threads == 6);

  // A wrong type is refused even for a key the command line overrides.
  testing::write_file(file, "threads = \"8\"\n");
  const auto refused = parse({"--config", file.c_str(), "--threads", "6"});
  CHECK(refused.outcome.exit_code == 2);
}

TEST_CASE("the account commands parse, with --db and --config before or after the command name") {
  testing::TempDir dir;
  const std::string file = dir.file("cobinar.toml");
  testing::write_file(file, "db = \"file.sqlite\"\n");
  CHECK(parse({"developer", "list"}).outcome.command == app::Command::kDeveloperList);
  const auto list = parse({"developer", "list", "--config", file.c_str()});
  CHECK(list.outcome.config.db_path == "file.sqlite");
  const auto reset = parse({"--db", "x.sqlite", "developer", "reset-password", "--email", "a@example.com", "--password-stdin"});
  REQUIRE_FALSE(reset.outcome.exit_code.has_value());
  CHECK(reset.outcome.command == app::Command::kDeveloperResetPassword);
  CHECK(reset.outcome.developer.email == "a@example.com");
  CHECK(reset.outcome.developer.password_stdin);
  CHECK(reset.outcome.config.db_path == "x.sqlite");
  const auto disable = parse({"developer", "disable", "--email", "a@example.com", "--key-file", "k", "--db", "y.sqlite"});
  CHECK(disable.outcome.command == app::Command::kDeveloperDisable);
  CHECK(disable.outcome.config.key_file_path() == "k");
  CHECK(parse({"developer", "enable", "--email", "a@example.com"}).outcome.command == app::Command::kDeveloperEnable);
  // reset-password without --password-stdin, or any of them without --email: exit 2.
  CHECK(parse({"developer", "reset-password", "--email", "a@example.com"}).outcome.exit_code == 2);
  CHECK(parse({"developer", "disable"}).outcome.exit_code == 2);
  CHECK(parse({"developer", "enable"}).outcome.exit_code == 2);
}

TEST_CASE("--help and --version print to stdout and exit 0") {
  const auto help = parse({"--help"});
  REQUIRE(help.outcome.exit_code == 0);
  for (const char* word : {"serve", "migrate", "version", "--db", "--listen", "--key-file", "--config", "--durability",
                           "--log-format", "--threads", "COBINAR_DB"}) {
    CAPTURE(word);
    CHECK(help.out.find(word) != std::string::npos);
  }
  const auto version = parse({"--version"});
  REQUIRE(version.outcome.exit_code == 0);
  CHECK(version.out == app::version_line() + "\n");
  CHECK(app::version_line() ==
        "cobinar-phone " COBINAR_VERSION " (cpp-httplib " COBINAR_HTTPLIB_VERSION ", " COBINAR_ALLOCATOR
        ", libphonenumber metadata " + core::phone_metadata_version() + ")");
  CHECK(core::phone_metadata_version().find('.') != std::string::npos);  // e.g. 8.12.57
  CHECK(parse({"version"}).outcome.command == app::Command::kVersion);
}
