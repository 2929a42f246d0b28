#include "app/cli.h"

#include <doctest/doctest.h>
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
  CHECK(app::version_line() == "cobinar-phone " COBINAR_VERSION " (cpp-httplib " COBINAR_HTTPLIB_VERSION ")");
  CHECK(parse({"version"}).outcome.command == app::Command::kVersion);
}
