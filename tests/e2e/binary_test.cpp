// End-to-end: the built binary as an operator runs it. COBINAR_TEST_BINARY overrides which
// binary (CI points it at the static release build too).
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <SQLiteCpp/Database.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <atomic>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "core/phone.h"
#include "tests/e2e/helpers.h"
#include "tests/e2e/process.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;

namespace {

using testing::binary;
using testing::free_port;
using testing::start_and_wait;

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  return fd;
}

std::size_t line_count(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

}  // namespace

TEST_CASE("serve answers health, creates a 0600 key file and database, and exits 0 on SIGTERM") {
  testing::TempDir dir;
  testing::Process server(binary(), {"--db", dir.file("data.sqlite"), "--listen", "127.0.0.1:0"});
  const int port = start_and_wait(server);

  httplib::Client client("127.0.0.1", port);
  auto health = client.Get("/v1/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(nlohmann::json::parse(health->body)["data"]["status"] == "operational");

  struct stat info {};
  REQUIRE(::stat(dir.file("data.sqlite.key").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  for (const char* file : {"data.sqlite", "data.sqlite-wal"}) {
    CAPTURE(file);
    REQUIRE(::stat(dir.file(file).c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
  }

  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
  CHECK(server.err().find("stopped") != std::string::npos);
  CHECK(server.err().find("method=GET path=/v1/health status=200") != std::string::npos);
}

TEST_CASE("SIGINT also stops cleanly, and the database reopens") {
  testing::TempDir dir;
  {
    testing::Process server(binary(), {"--db", dir.file("data.sqlite"), "--listen", "127.0.0.1:0"});
    start_and_wait(server);
    server.signal(SIGINT);
    CHECK(server.wait(10s) == 0);
  }
  const auto again = testing::run_binary(binary(), {"migrate", "--db", dir.file("data.sqlite")});
  CHECK(again.code == 0);
  CHECK(again.out.find("up to date") != std::string::npos);
}

TEST_CASE("an in-flight request is finished after SIGTERM") {
  testing::TempDir dir;
  testing::Process server(binary(), {"--db", dir.file("data.sqlite"), "--listen", "127.0.0.1:0"});
  const int port = start_and_wait(server);

  // Half a request: headers and one byte of a two-byte body.
  const int fd = connect_to(port);
  const std::string head = "POST /v1/health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{";
  REQUIRE(::write(fd, head.data(), head.size()) == static_cast<ssize_t>(head.size()));
  std::this_thread::sleep_for(100ms);
  server.signal(SIGTERM);
  REQUIRE(server.wait_for_stderr("shutting down", 5s));
  std::this_thread::sleep_for(100ms);
  REQUIRE(::write(fd, "}", 1) == 1);

  std::string answer;
  char buffer[4096];
  ssize_t n = 0;
  while (answer.find("}}") == std::string::npos && (n = ::read(fd, buffer, sizeof buffer)) > 0) answer.append(buffer, n);
  ::close(fd);
  CHECK(answer.starts_with("HTTP/1.1 405"));
  CHECK(answer.find("METHOD_NOT_ALLOWED") != std::string::npos);
  CHECK(server.wait(10s) == 0);
}

TEST_CASE("bad start-up input is one clear line on stderr and a non-zero exit") {
  testing::TempDir dir;
  testing::write_file(dir.file("plain-file"), "x");
  testing::write_file(dir.file("bad.toml"), "listen = [this is not toml\n");

  // Occupy a port so the server cannot bind it.
  const int blocker = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(blocker, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(blocker, 1) == 0);
  socklen_t length = sizeof address;
  ::getsockname(blocker, reinterpret_cast<sockaddr*>(&address), &length);
  const std::string busy = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));

  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"unwritable database path", {"--db", dir.file("plain-file") + "/data.sqlite", "--key-file", dir.file("k")},
       "cannot open database"},
      {"port in use", {"--db", dir.file("a.sqlite"), "--listen", busy}, "cannot listen on " + busy},
      {"malformed config", {"--db", dir.file("a.sqlite"), "--config", dir.file("bad.toml")},
       "cobinar-phone: " + dir.file("bad.toml") + ":1:"},
      {"unknown option", {"--frobnicate"}, "--frobnicate"},
      {"unreadable key file", {"--db", dir.file("a.sqlite"), "--key-file", dir.file("plain-file")}, "key file"},
      {"not a database", {"--db", dir.file("bad.toml"), "--key-file", dir.file("k2")}, "database"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto result = testing::run_binary(binary(), c.args);
    CHECK(result.code != 0);
    CHECK(line_count(result.err) == 1);
    CHECK(result.err.starts_with("cobinar-phone: "));
    CHECK_MESSAGE(result.err.find(c.expected) != std::string::npos, result.err);
  }
  ::close(blocker);
}

TEST_CASE("migrate applies the schema once and refuses a newer database untouched") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  const auto first = testing::run_binary(binary(), {"migrate", "--db", db});
  CHECK(first.code == 0);
  CHECK(first.out.find("migrated schema from version 0 to") != std::string::npos);
  const auto second = testing::run_binary(binary(), {"--db", db, "migrate"});
  CHECK(second.code == 0);
  CHECK(second.out.find("up to date") != std::string::npos);

  {
    SQLite::Database handle(db, SQLite::OPEN_READWRITE);
    handle.exec("PRAGMA user_version = 999");
  }
  const std::string before = testing::read_file(db);
  const auto refused = testing::run_binary(binary(), {"migrate", "--db", db});
  CHECK(refused.code != 0);
  CHECK(line_count(refused.err) == 1);
  CHECK(refused.err.find("newer cobinar-phone") != std::string::npos);
  const auto refused_serve = testing::run_binary(binary(), {"--db", db, "--listen", "127.0.0.1:0"});
  CHECK(refused_serve.code != 0);
  CHECK(testing::read_file(db) == before);
}

TEST_CASE("version, --version and --help") {
  const auto version = testing::run_binary(binary(), {"version"});
  CHECK(version.code == 0);
  // The version of the cpp-httplib compiled in too (scripts/fetch-httplib.sh), the allocator and
  // libphonenumber's metadata version.
  CHECK(version.out == "cobinar-phone " COBINAR_VERSION " (cpp-httplib " COBINAR_HTTPLIB_VERSION ", " COBINAR_ALLOCATOR
                       ", libphonenumber metadata " + core::phone_metadata_version() + ")\n");
  const auto flag = testing::run_binary(binary(), {"--version"});
  CHECK(flag.code == 0);
  CHECK(flag.out == version.out);
  const auto help = testing::run_binary(binary(), {"--help"});
  CHECK(help.code == 0);
  CHECK(help.out.find("migrate") != std::string::npos);
}

TEST_CASE("configuration from the environment and a config file; JSON logs") {
  testing::TempDir dir;
  testing::write_file(dir.file("cobinar.toml"), "log-format = \"json\"\nlisten = \"127.0.0.1:0\"\n");
  testing::Process server(binary(), {"--config", dir.file("cobinar.toml")}, {"COBINAR_DB=" + dir.file("env.sqlite")});
  REQUIRE(server.wait_for_stderr("\"msg\":\"listening\"", 10s));
  std::smatch match;
  const std::string err = server.err();
  REQUIRE(std::regex_search(err, match, std::regex(R"(127\.0\.0\.1:(\d+))")));
  httplib::Client client("127.0.0.1", std::stoi(match[1]));
  REQUIRE(client.Get("/v1/health"));
  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);

  CHECK(std::filesystem::exists(dir.file("env.sqlite")));
  std::size_t request_lines = 0;
  std::istringstream lines(server.err());
  for (std::string line; std::getline(lines, line);) {
    const auto object = nlohmann::json::parse(line);  // every line is one JSON object
    CHECK(object.contains("time"));
    if (object["msg"] == "request") {
      ++request_lines;
      CHECK(object["path"] == "/v1/health");
      CHECK(object["status"] == 200);
      CHECK(object["request_id"].is_string());
    }
  }
  CHECK(request_lines == 1);
}

TEST_CASE("the shipped example config parses, and the server starts with it (--db and --listen overriding)") {
  testing::TempDir dir;
  const std::string example = COBINAR_SOURCE_DIR "/packaging/cobinar.example.toml";
  const auto migrated = testing::run_binary(binary(), {"--config", example, "--db", dir.file("m.sqlite"), "migrate"});
  CHECK_MESSAGE(migrated.code == 0, migrated.err);
  CHECK(migrated.out.find("migrated schema") != std::string::npos);

  // Its commented-out keys are valid too.
  std::string uncommented;
  std::istringstream lines(testing::read_file(example));
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("# ") && line.find(" = ") != std::string::npos) line = line.substr(2);
    uncommented += line + "\n";
  }
  testing::write_file(dir.file("all.toml"), uncommented);
  const auto all = testing::run_binary(
      binary(), {"migrate", "--config", dir.file("all.toml"), "--db", dir.file("m.sqlite"), "--key-file", dir.file("k"), "--tls-cert", example,
                 "--tls-key", example});
  CHECK_MESSAGE(all.code == 0, all.err);

  testing::Process server(binary(), {"--config", example, "--db", dir.file("data.sqlite"), "--listen", "127.0.0.1:0"});
  REQUIRE_MESSAGE(server.wait_for_stderr("\"msg\":\"listening\"", 10s), server.err());  // log-format = "json"
  std::smatch match;
  const std::string err = server.err();
  REQUIRE(std::regex_search(err, match, std::regex(R"(127\.0\.0\.1:(\d+))")));
  httplib::Client client("127.0.0.1", std::stoi(match[1]));
  auto health = client.Get("/v1/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}

TEST_CASE("a config file with a wrong type or an unknown key: exit 2, one line with file, line and key") {
  testing::TempDir dir;
  testing::write_file(dir.file("typed.toml"), "db = \"x.sqlite\"\nwebhook-allow-http = \"yes\"\n");
  testing::write_file(dir.file("unknown.toml"), "# ops\nlog_format = \"json\"\n");
  const auto typed = testing::run_binary(binary(), {"--config", dir.file("typed.toml"), "migrate"});
  CHECK(typed.code == 2);
  CHECK(typed.err == "cobinar-phone: " + dir.file("typed.toml") +
                         ":2: key 'webhook-allow-http': expected true or false, not a string\n");
  const auto unknown = testing::run_binary(binary(), {"migrate"}, {"COBINAR_CONFIG=" + dir.file("unknown.toml")});
  CHECK(unknown.code == 2);
  CHECK(unknown.err == "cobinar-phone: " + dir.file("unknown.toml") +
                           ":2: key 'log_format': unknown option (did you mean 'log-format'?)\n");
  CHECK_FALSE(std::filesystem::exists(dir.file("x.sqlite")));
}

TEST_CASE("serves HTTPS with --tls-cert and --tls-key") {
  testing::TempDir dir;
  const std::string cert = dir.file("cert.pem"), key = dir.file("key.pem");
  const auto made = testing::run_binary("/usr/bin/openssl",
                                        {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                         "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1", "-keyout", key, "-out", cert});
  REQUIRE_MESSAGE(made.code == 0, made.err);

  testing::Process server(binary(), {"--db", dir.file("data.sqlite"), "--listen", "127.0.0.1:0", "--tls-cert", cert,
                                     "--tls-key", key});
  const int port = start_and_wait(server);
  CHECK(server.err().find("scheme=https") != std::string::npos);
  httplib::SSLClient client("127.0.0.1", port);
  client.set_ca_cert_path(cert.c_str());
  client.enable_server_certificate_verification(true);
  auto health = client.Get("/v1/health");
  REQUIRE_MESSAGE(health, httplib::to_string(health.error()));
  CHECK(health->status == 200);

  // Plain HTTP to the TLS port gets no answer.
  httplib::Client plain("127.0.0.1", port);
  plain.set_read_timeout(2);
  auto refused = plain.Get("/v1/health");
  CHECK((!refused || refused->status != 200));

  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);

  const auto mismatched = testing::run_binary(binary(), {"--db", dir.file("data.sqlite"), "--tls-cert", cert});
  CHECK(mismatched.code != 0);
  CHECK(mismatched.err.find("--tls-cert and --tls-key") != std::string::npos);
}

TEST_CASE("developer create, token and set-plan work while the server runs on the same database") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  testing::Process server(binary(), {"--db", db, "--listen", "127.0.0.1:0"});
  const int port = start_and_wait(server);
  httplib::Client client("127.0.0.1", port);

  const auto created = testing::run_binary(
      binary(), {"developer", "create", "--email", "Ops@Example.com", "--name", "Ops", "--password-stdin", "--db", db},
      {}, "correct horse battery\n");
  REQUIRE_MESSAGE(created.code == 0, created.err);
  const auto developer = nlohmann::json::parse(created.out);
  CHECK(developer["email"] == "Ops@Example.com");
  CHECK(developer["plan"] == "free");

  auto login = client.Post("/v1/auth/login", R"({"email":"ops@example.com","password":"correct horse battery"})",
                           "application/json");
  REQUIRE(login);
  CHECK(login->status == 200);

  const auto token = testing::run_binary(binary(), {"--db", db, "token", "--email", "ops@example.com"});
  REQUIRE_MESSAGE(token.code == 0, token.err);
  const std::string id_token = token.out.substr(0, token.out.find('\n'));
  auto me = client.Get("/v1/developer/me", {{"Authorization", "Bearer " + id_token}});
  REQUIRE(me);
  CHECK(me->status == 200);
  CHECK(nlohmann::json::parse(me->body)["data"]["id"] == developer["id"]);

  const auto set_plan =
      testing::run_binary(binary(), {"developer", "set-plan", "--email", "ops@example.com", "--plan", "unlimited", "--db", db});
  CHECK(set_plan.code == 0);
  me = client.Get("/v1/developer/me", {{"Authorization", "Bearer " + id_token}});
  CHECK(nlohmann::json::parse(me->body)["data"]["plan"] == "unlimited");

  const auto duplicate = testing::run_binary(binary(), {"developer", "create", "--email", "ops@example.com", "--db", db});
  CHECK(duplicate.code != 0);
  CHECK(duplicate.err.find("already exists") != std::string::npos);
  const auto unknown_plan =
      testing::run_binary(binary(), {"developer", "set-plan", "--email", "ops@example.com", "--plan", "gold", "--db", db});
  CHECK(unknown_plan.code != 0);
  const auto short_password = testing::run_binary(
      binary(), {"developer", "create", "--email", "b@example.com", "--password-stdin", "--db", db}, {}, "short\n");
  CHECK(short_password.code != 0);
  const auto nobody = testing::run_binary(binary(), {"token", "--email", "nobody@example.com", "--db", db});
  CHECK(nobody.code != 0);

  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}

TEST_CASE("developer list, reset-password, disable and enable work while the server runs on the same database") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  testing::write_file(dir.file("cobinar.toml"), "db = \"" + db + "\"\n");
  testing::Process server(binary(), {"--db", db, "--listen", "127.0.0.1:0"});
  const int port = start_and_wait(server);
  httplib::Client client("127.0.0.1", port);
  auto login = [&](const std::string& password) {
    auto answer = client.Post("/v1/auth/login",
                              nlohmann::json{{"email", "ops@example.com"}, {"password", password}}.dump(), "application/json");
    REQUIRE(answer);
    return *answer;
  };
  auto one_line_failure = [](const testing::Completed& result, const std::string& text) {
    CHECK(result.code == 1);
    CHECK(line_count(result.err) == 1);
    CHECK(result.err.starts_with("cobinar-phone: "));
    CHECK_MESSAGE(result.err.find(text) != std::string::npos, result.err);
  };

  REQUIRE(testing::run_binary(binary(), {"developer", "create", "--email", "Ops@Example.com", "--name", "Ops",
                                         "--password-stdin", "--db", db}, {}, "correct horse battery\n")
              .code == 0);
  REQUIRE(testing::run_binary(binary(), {"--db", db, "developer", "create", "--email", "b@example.com", "--plan", "unlimited"})
              .code == 0);

  // list: a JSON array, oldest first, no password hashes; --config works after the command name.
  const auto listed = testing::run_binary(binary(), {"developer", "list", "--config", dir.file("cobinar.toml")});
  REQUIRE_MESSAGE(listed.code == 0, listed.err);
  CHECK(listed.out.find("argon2") == std::string::npos);
  CHECK(listed.out.find("assword") == std::string::npos);
  const auto developers = nlohmann::json::parse(listed.out);
  REQUIRE(developers.size() == 2);
  CHECK(developers[0]["email"] == "Ops@Example.com");
  CHECK(developers[0]["name"] == "Ops");
  CHECK(developers[0]["plan"] == "free");
  CHECK(developers[0]["disabled"] == false);
  CHECK(developers[0]["disabledAt"].is_null());
  CHECK(developers[0]["id"].is_string());
  CHECK(developers[0]["createdAt"].is_string());
  CHECK(developers[1]["email"] == "b@example.com");
  CHECK(developers[1]["plan"] == "unlimited");

  // reset-password: the new password works, the old one and the old refresh token do not.
  const auto before = login("correct horse battery");
  REQUIRE(before.status == 200);
  const std::string refresh_token = nlohmann::json::parse(before.body)["data"]["refreshToken"];
  const auto reset = testing::run_binary(
      binary(), {"developer", "reset-password", "--email", "OPS@example.com", "--password-stdin", "--db", db}, {},
      "a brand new password\n");
  REQUIRE_MESSAGE(reset.code == 0, reset.err);
  CHECK(nlohmann::json::parse(reset.out)["email"] == "Ops@Example.com");
  CHECK(login("correct horse battery").status == 401);
  CHECK(login("a brand new password").status == 200);
  auto refreshed = client.Post("/v1/auth/refresh", nlohmann::json{{"refreshToken", refresh_token}}.dump(), "application/json");
  REQUIRE(refreshed);
  CHECK(refreshed->status == 401);
  one_line_failure(testing::run_binary(binary(), {"developer", "reset-password", "--email", "ops@example.com",
                                                  "--password-stdin", "--db", db}, {}, "short\n"),
                   "10 to 1024 characters");
  one_line_failure(testing::run_binary(binary(), {"developer", "reset-password", "--email", "nobody@example.com",
                                                  "--password-stdin", "--db", db}, {}, "a brand new password\n"),
                   "No developer with email 'nobody@example.com'.");
  CHECK(login("a brand new password").status == 200);

  // disable: the ID token and login get 401 at once; enable restores both.
  const auto token = testing::run_binary(binary(), {"token", "--email", "ops@example.com", "--db", db});
  REQUIRE(token.code == 0);
  const httplib::Headers auth = {{"Authorization", "Bearer " + token.out.substr(0, token.out.find('\n'))}};
  CHECK(client.Get("/v1/developer/me", auth)->status == 200);
  const auto disabled = testing::run_binary(binary(), {"--db", db, "developer", "disable", "--email", "ops@example.com"});
  REQUIRE_MESSAGE(disabled.code == 0, disabled.err);
  CHECK(nlohmann::json::parse(disabled.out)["disabled"] == true);
  auto me = client.Get("/v1/developer/me", auth);
  REQUIRE(me);
  CHECK(me->status == 401);
  CHECK(nlohmann::json::parse(me->body)["error"]["code"] == "UNAUTHENTICATED");
  CHECK(client.Get("/v1/projects", auth)->status == 401);
  CHECK(login("a brand new password").status == 401);
  const auto listed_disabled = nlohmann::json::parse(
      testing::run_binary(binary(), {"developer", "list", "--db", db}).out);
  CHECK(listed_disabled[0]["disabled"] == true);
  CHECK(listed_disabled[0]["disabledAt"].is_string());
  CHECK(listed_disabled[1]["disabled"] == false);
  one_line_failure(testing::run_binary(binary(), {"token", "--email", "ops@example.com", "--db", db}), "disabled");

  const auto enabled = testing::run_binary(binary(), {"developer", "enable", "--email", "ops@example.com", "--db", db});
  REQUIRE_MESSAGE(enabled.code == 0, enabled.err);
  CHECK(nlohmann::json::parse(enabled.out)["disabled"] == false);
  CHECK(client.Get("/v1/developer/me", auth)->status == 200);
  CHECK(login("a brand new password").status == 200);

  one_line_failure(testing::run_binary(binary(), {"developer", "disable", "--email", "nobody@example.com", "--db", db}),
                   "No developer with email 'nobody@example.com'.");
  one_line_failure(testing::run_binary(binary(), {"developer", "enable", "--email", "nobody@example.com", "--db", db}),
                   "No developer with email 'nobody@example.com'.");

  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}

TEST_CASE("a queued SMS survives a restart of the binary and is delivered after it") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  // A port with nothing listening yet: the gateway is "down".
  const int gateway_port = free_port();
  const std::vector<std::string> args = {"--db", db, "--listen", "127.0.0.1:0", "--sms-driver", "http",
                                         "--sms-http-url", "http://127.0.0.1:" + std::to_string(gateway_port) + "/send?text={message}",
                                         "--sms-retry-schedule", "1,1,1,1,1,1,1,1,1,1"};

  REQUIRE(testing::run_binary(binary(), {"developer", "create", "--email", "ops@example.com", "--db", db}).code == 0);
  const std::string token = testing::run_binary(binary(), {"token", "--email", "ops@example.com", "--db", db}).out;
  const httplib::Headers console = {{"Authorization", "Bearer " + token.substr(0, token.find('\n'))}};

  std::string request_id;
  {
    testing::Process server(binary(), args);
    httplib::Client client("127.0.0.1", start_and_wait(server));
    auto project = client.Post("/v1/projects", console, R"({"name":"p"})", "application/json");
    const std::string project_id = nlohmann::json::parse(project->body)["data"]["id"];
    auto created = client.Post("/v1/applications", console,
                               nlohmann::json{{"name", "Shop"}, {"projectId", project_id}, {"environment", "live"}}.dump(),
                               "application/json");
    const auto app = nlohmann::json::parse(created->body)["data"];
    auto sent = client.Post("/v1/otp/send",
                            {{"x-client-id", app["clientId"]}, {"x-client-secret", app["clientSecret"]}, {"x-api-key", app["apiKey"]}},
                            R"({"phone":"+1 415 555 2671"})", "application/json");
    REQUIRE(sent->status == 201);
    request_id = nlohmann::json::parse(sent->body)["data"]["requestId"];
    server.signal(SIGTERM);
    REQUIRE(server.wait(10s) == 0);
  }

  // The gateway comes up, then the server restarts and delivers the queued message.
  httplib::Server gateway;
  std::atomic<int> received{0};
  std::string text;
  std::mutex text_mutex;
  gateway.Post("/send", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(text_mutex);
    text = req.get_param_value("text");
    ++received;
    res.set_content("ok", "text/plain");
  });
  REQUIRE(gateway.bind_to_port("127.0.0.1", gateway_port));
  std::thread gateway_thread([&] { gateway.listen_after_bind(); });

  testing::Process server(binary(), args);
  httplib::Client client("127.0.0.1", start_and_wait(server));
  for (int i = 0; i < 500 && received == 0; ++i) std::this_thread::sleep_for(10ms);
  CHECK(received == 1);
  {
    std::lock_guard lock(text_mutex);
    CHECK(text.find(" is your Shop verification code") == 6);
  }
  std::string status;
  for (int i = 0; i < 200 && status != "sent"; ++i) {
    auto read = client.Get("/v1/otp/" + request_id, console);
    status = nlohmann::json::parse(read->body)["data"]["deliveryStatus"];
    std::this_thread::sleep_for(10ms);
  }
  CHECK(status == "sent");
  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
  gateway.stop();
  gateway_thread.join();
}

namespace {

// Creates a developer, project and live app through the CLI and HTTP; returns the app object
// (with its secrets) and the console header.
struct ProvisionedApp {
  nlohmann::json app;
  httplib::Headers console;
  httplib::Headers credentials() const {
    return {{"x-client-id", app["clientId"]}, {"x-client-secret", app["clientSecret"]}, {"x-api-key", app["apiKey"]}};
  }
};

ProvisionedApp provision(const std::string& db, httplib::Client& client, const std::string& environment) {
  REQUIRE(testing::run_binary(binary(), {"developer", "create", "--email", "ops@example.com", "--db", db}).code == 0);
  const std::string token = testing::run_binary(binary(), {"token", "--email", "ops@example.com", "--db", db}).out;
  ProvisionedApp provisioned;
  provisioned.console = {{"Authorization", "Bearer " + token.substr(0, token.find('\n'))}};
  auto project = client.Post("/v1/projects", provisioned.console, R"({"name":"p"})", "application/json");
  const std::string project_id = nlohmann::json::parse(project->body)["data"]["id"];
  auto created = client.Post("/v1/applications", provisioned.console,
                             nlohmann::json{{"name", "Shop"}, {"projectId", project_id}, {"environment", environment}}.dump(),
                             "application/json");
  provisioned.app = nlohmann::json::parse(created->body)["data"];
  return provisioned;
}

}  // namespace

TEST_CASE("deliveries verify with the public standardwebhooks npm package in Node") {
  const std::string receiver_dir = std::string(COBINAR_SOURCE_DIR) + "/tests/webhooks";
  REQUIRE_MESSAGE(std::filesystem::exists(receiver_dir + "/node_modules/standardwebhooks"),
                  "run `npm ci --prefix tests/webhooks` (scripts/test.sh does)");
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  testing::Process server(binary(), {"--db", db, "--listen", "127.0.0.1:0", "--webhook-allow-http", "--webhook-allow-private"});
  httplib::Client client("127.0.0.1", start_and_wait(server));
  const auto provisioned = provision(db, client, "test");

  testing::Process receiver("/usr/bin/env", {"node", receiver_dir + "/receiver.mjs", provisioned.app["webhookSecret"]});
  for (int i = 0; i < 500 && receiver.out().find("listening") == std::string::npos; ++i) std::this_thread::sleep_for(10ms);
  const std::string out = receiver.out();
  REQUIRE_MESSAGE(out.find("listening ") != std::string::npos, receiver.err());
  const int port = std::stoi(out.substr(out.find("listening ") + 10));
  auto hook = client.Post("/v1/webhooks", provisioned.console,
                          nlohmann::json{{"appId", provisioned.app["id"]},
                                         {"url", "http://127.0.0.1:" + std::to_string(port) + "/hooks"},
                                         {"events", {"otp.created", "otp.failed", "otp.verified", "identity.created"}}}
                              .dump(),
                          "application/json");
  REQUIRE(hook->status == 201);

  auto sent = client.Post("/v1/otp/send", provisioned.credentials(), R"({"phone":"+999 482 918 102"})", "application/json");
  const auto data = nlohmann::json::parse(sent->body)["data"];
  const std::string code = data["testCode"];
  client.Post("/v1/otp/verify", provisioned.credentials(),
              nlohmann::json{{"requestId", data["requestId"]}, {"code", code == "000000" ? "111111" : "000000"}}.dump(),
              "application/json");
  client.Post("/v1/otp/verify", provisioned.credentials(),
              nlohmann::json{{"requestId", data["requestId"]}, {"code", code}}.dump(), "application/json");

  // otp.created, otp.failed, otp.verified, identity.created — each verified by the package.
  auto lines = [&] {
    std::vector<nlohmann::json> parsed;
    std::istringstream stream(receiver.out());
    for (std::string line; std::getline(stream, line);) {
      if (!line.starts_with("listening")) parsed.push_back(nlohmann::json::parse(line));
    }
    return parsed;
  };
  for (int i = 0; i < 500 && lines().size() < 4; ++i) std::this_thread::sleep_for(10ms);
  const auto results = lines();
  REQUIRE(results.size() == 4);
  std::vector<std::string> events;
  for (const auto& r : results) {
    CHECK_MESSAGE(r["ok"] == true, r.dump());
    events.push_back(r.value("event", ""));
  }
  std::sort(events.begin(), events.end());
  CHECK(events == std::vector<std::string>{"identity.created", "otp.created", "otp.failed", "otp.verified"});
  receiver.signal(SIGTERM);
  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}

TEST_CASE("kill -9 with undelivered webhook events: all of them arrive after the restart") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  const int receiver_port = free_port();
  const std::vector<std::string> args = {"--db", db, "--listen", "127.0.0.1:0", "--webhook-allow-http",
                                         "--webhook-allow-private", "--webhook-retry-schedule", "1,1,1,1,1,1,1,1,1,1",
                                         "--send-rate-limit", "100", "--phone-send-limit", "100"};
  std::set<std::string> request_ids;
  {
    testing::Process server(binary(), args);
    httplib::Client client("127.0.0.1", start_and_wait(server));
    const auto provisioned = provision(db, client, "test");
    auto hook = client.Post("/v1/webhooks", provisioned.console,
                            nlohmann::json{{"appId", provisioned.app["id"]},
                                           {"url", "http://127.0.0.1:" + std::to_string(receiver_port) + "/hooks"},
                                           {"events", {"otp.created"}}}
                                .dump(),
                            "application/json");
    REQUIRE(hook->status == 201);
    for (int i = 0; i < 5; ++i) {
      auto sent = client.Post("/v1/otp/send", provisioned.credentials(),
                              nlohmann::json{{"phone", "+999 100 000 00" + std::to_string(i)}}.dump(), "application/json");
      request_ids.insert(nlohmann::json::parse(sent->body)["data"]["requestId"].get<std::string>());
    }
    std::this_thread::sleep_for(300ms);  // attempts fail: nothing listens on the receiver's port
    server.signal(SIGKILL);
    server.wait(10s);
  }

  httplib::Server receiver;
  std::mutex mutex;
  std::set<std::string> delivered;
  receiver.Post("/hooks", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    delivered.insert(nlohmann::json::parse(req.body)["payload"]["requestId"].get<std::string>());
    res.status = 204;
  });
  REQUIRE(receiver.bind_to_port("127.0.0.1", receiver_port));
  std::thread receiver_thread([&] { receiver.listen_after_bind(); });

  testing::Process server(binary(), args);
  start_and_wait(server);
  for (int i = 0; i < 1000; ++i) {
    {
      std::lock_guard lock(mutex);
      if (delivered.size() == request_ids.size()) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  {
    std::lock_guard lock(mutex);
    CHECK(delivered == request_ids);
  }
  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
  receiver.stop();
  receiver_thread.join();
}

namespace {

bool healthy(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(2);
  const auto health = client.Get("/v1/health");
  return health && health->status == 200;
}

// Every path under `root` (symlinks not followed): what a refused server must leave unchanged.
std::set<std::string> listing(const std::filesystem::path& root) {
  std::set<std::string> paths;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) paths.insert(entry.path().string());
  return paths;
}

// The canonical database path plus ".lock", where the running server's pid is written.
std::string lock_file_of(const std::string& db) { return std::filesystem::canonical(db).string() + ".lock"; }

}  // namespace

TEST_CASE("database lock: a second server on the same database exits 1, however the path is spelled") {
  namespace fs = std::filesystem;
  testing::TempDir dir;
  testing::TempDir other;  // holds the symlinks, so the database directory's listing stays comparable
  const std::string db = dir.file("data.sqlite");
  fs::create_directory(dir.path() / "sub");
  testing::Process first(binary(), {"--db", db, "--listen", "127.0.0.1:0"});
  const int port = start_and_wait(first);
  const std::string lock_file = lock_file_of(db);
  const std::string holder = "pid " + std::to_string(first.pid());
  REQUIRE(testing::read_file(lock_file) == std::to_string(first.pid()) + "\n");

  fs::create_symlink(db, other.path() / "link.sqlite");
  fs::create_symlink(fs::relative(db, other.path()), other.path() / "relative-link.sqlite");
  fs::create_directory_symlink(dir.path(), other.path() / "dir-link");

  struct Case {
    std::string name;
    std::string db;
  };
  const std::vector<Case> cases = {
      {"the same path", db},
      {"a relative path", fs::relative(db, fs::current_path()).string()},
      {"a path with . and ..", (dir.path() / "sub" / ".." / "." / "data.sqlite").string()},
      {"a symlink to the file", other.file("link.sqlite")},
      {"a relative symlink to the file", other.file("relative-link.sqlite")},
      {"a path through a symlinked directory", (other.path() / "dir-link" / "data.sqlite").string()},
  };
  const auto before = listing(dir.path());
  const auto before_other = listing(other.path());
  for (const auto& c : cases) {
    CAPTURE(c.name);
    testing::Process second(binary(), {"--db", c.db, "--listen", "127.0.0.1:0"});
    CHECK_FALSE(second.wait_for_stderr("listening", 10s));
    CHECK(second.wait(10s) == 1);
    const std::string err = second.err();
    CHECK(line_count(err) == 1);
    CHECK(err.starts_with("cobinar-phone: "));
    CHECK_MESSAGE(err.find("database '" + c.db + "' is already served") != std::string::npos, err);
    CHECK_MESSAGE(err.find(holder + " holds the lock '" + lock_file + "'") != std::string::npos, err);
    // The refused server created nothing (no key file beside a symlink), and left the lock file,
    // and the first server, alone.
    CHECK(listing(dir.path()) == before);
    CHECK(listing(other.path()) == before_other);
    CHECK(testing::read_file(lock_file) == std::to_string(first.pid()) + "\n");
    CHECK(healthy(port));
  }

  first.signal(SIGTERM);
  CHECK(first.wait(10s) == 0);
}

TEST_CASE("database lock: the CLI commands do not take it and work while a server holds it") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  testing::Process server(binary(), {"--db", db, "--listen", "127.0.0.1:0"});
  const int port = start_and_wait(server);

  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::string expected_out;
  };
  const std::vector<Case> cases = {
      {"migrate", {"migrate", "--db", db}, "up to date"},
      {"developer create", {"developer", "create", "--email", "ops@example.com", "--db", db}, "ops@example.com"},
      {"developer set-plan", {"developer", "set-plan", "--email", "ops@example.com", "--plan", "unlimited", "--db", db},
       "unlimited"},
      {"token", {"token", "--email", "ops@example.com", "--db", db}, "."},
      {"version", {"version"}, COBINAR_VERSION},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto result = testing::run_binary(binary(), c.args);
    CHECK_MESSAGE(result.code == 0, result.err);
    CHECK_MESSAGE(result.out.find(c.expected_out) != std::string::npos, result.out);
  }
  // The token the CLI printed is accepted by the running server.
  const std::string token = testing::run_binary(binary(), {"token", "--email", "ops@example.com", "--db", db}).out;
  httplib::Client client("127.0.0.1", port);
  auto me = client.Get("/v1/developer/me", {{"Authorization", "Bearer " + token.substr(0, token.find('\n'))}});
  REQUIRE(me);
  CHECK(me->status == 200);
  CHECK(testing::read_file(lock_file_of(db)) == std::to_string(server.pid()) + "\n");

  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}

TEST_CASE("database lock: released when the server stops or dies; the stale lock file is no obstacle") {
  struct Case {
    std::string name;
    int signo;
    int expected_code;
  };
  const std::vector<Case> cases = {{"SIGTERM", SIGTERM, 0}, {"SIGINT", SIGINT, 0}, {"SIGKILL", SIGKILL, 128 + SIGKILL}};
  for (const auto& c : cases) {
    CAPTURE(c.name);
    testing::TempDir dir;
    const std::string db = dir.file("data.sqlite");
    int first_pid = 0;
    {
      testing::Process first(binary(), {"--db", db, "--listen", "127.0.0.1:0"});
      CHECK(healthy(start_and_wait(first)));
      first_pid = first.pid();
      first.signal(c.signo);
      CHECK(first.wait(10s) == c.expected_code);
    }
    // Left behind with the old pid in it, and not in the way.
    CHECK(testing::read_file(lock_file_of(db)) == std::to_string(first_pid) + "\n");
    testing::Process next(binary(), {"--db", db, "--listen", "127.0.0.1:0"});
    CHECK(healthy(start_and_wait(next)));
    CHECK(testing::read_file(lock_file_of(db)) == std::to_string(next.pid()) + "\n");
    next.signal(SIGTERM);
    CHECK(next.wait(10s) == 0);
  }
}

// Like the database lock, for the port: needs an HTTP library that does not set SO_REUSEPORT
// on the listening socket (with it, both servers bind and the kernel splits the connections).
TEST_CASE("database lock's counterpart for ports: a second server on a port in use exits 1") {
  testing::TempDir dir;
  testing::Process first(binary(), {"--db", dir.file("a.sqlite"), "--listen", "127.0.0.1:0"});
  const int port = start_and_wait(first);
  const std::string address = "127.0.0.1:" + std::to_string(port);

  testing::Process second(binary(), {"--db", dir.file("b.sqlite"), "--listen", address});
  if (second.wait_for_stderr("listening", 10s)) {
    FAIL_CHECK("a second server listens on " << address << " next to the first");
    second.signal(SIGTERM);
  }
  CHECK(second.wait(10s) == 1);
  const std::string err = second.err();
  CHECK(line_count(err) == 1);
  CHECK_MESSAGE(err.starts_with("cobinar-phone: cannot listen on " + address), err);
  CHECK(healthy(port));

  first.signal(SIGTERM);
  CHECK(first.wait(10s) == 0);
}

namespace {

// Every project name the token's developer sees, following nextCursor.
std::set<std::string> project_names(int port, const std::string& token) {
  httplib::Client client("127.0.0.1", port);
  std::set<std::string> names;
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    auto listed = client.Get("/v1/projects?limit=100" + (cursor.empty() ? "" : "&cursor=" + cursor),
                             {{"Authorization", "Bearer " + token}});
    REQUIRE(listed);
    REQUIRE_MESSAGE(listed->status == 200, listed->body);
    const auto body = nlohmann::json::parse(listed->body);
    for (const auto& project : body["data"]) names.insert(project["name"].get<std::string>());
    if (body["nextCursor"].is_null()) break;
    cursor = body["nextCursor"].get<std::string>();
  }
  return names;
}

ino_t inode(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_ino;
}

unsigned permissions(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 0777;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

TEST_CASE("backup while the server writes; restore; every write acknowledged before the backup is there") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  testing::Process server(binary(), {"--db", db, "--listen", "127.0.0.1:0"});
  const int port = start_and_wait(server);
  const auto created =
      testing::run_binary(binary(), {"developer", "create", "--email", "ops@example.com", "--plan", "unlimited", "--db", db});
  REQUIRE_MESSAGE(created.code == 0, created.err);
  const auto token = testing::run_binary(binary(), {"token", "--email", "ops@example.com", "--db", db});
  REQUIRE_MESSAGE(token.code == 0, token.err);
  const std::string id_token = first_line(token.out);

  // Creates projects p-1, p-2, ... one after another until told to stop.
  std::mutex mutex;
  std::condition_variable progressed;
  std::vector<std::string> acknowledged;
  std::string writer_failure;
  std::atomic<bool> stop = false;
  std::thread writer([&] {
    httplib::Client client("127.0.0.1", port);
    for (int i = 1; !stop; ++i) {
      const std::string name = "p-" + std::to_string(i);
      auto created_project = client.Post("/v1/projects", {{"Authorization", "Bearer " + id_token}},
                                         nlohmann::json{{"name", name}}.dump(), "application/json");
      std::lock_guard lock(mutex);
      if (!created_project || created_project->status != 201) {
        writer_failure = created_project ? created_project->body : "no answer";
        progressed.notify_all();
        return;
      }
      acknowledged.push_back(name);
      progressed.notify_all();
    }
  });
  std::vector<std::string> before_backup;
  {
    std::unique_lock lock(mutex);
    REQUIRE(progressed.wait_for(lock, 30s, [&] { return acknowledged.size() >= 30 || !writer_failure.empty(); }));
    before_backup = acknowledged;
  }
  const std::string backup_file = dir.file("backup.sqlite");
  const auto backup = testing::run_binary(binary(), {"backup", "--db", db, "--out", backup_file, "--with-key"});
  std::size_t after_backup = 0;
  {
    std::unique_lock lock(mutex);
    // A few more writes after the backup: the server kept serving throughout.
    REQUIRE(progressed.wait_for(lock, 30s, [&] { return acknowledged.size() >= before_backup.size() + 10 || !writer_failure.empty(); }));
    after_backup = acknowledged.size();
  }
  stop = true;
  writer.join();
  REQUIRE_MESSAGE(writer_failure.empty(), writer_failure);
  REQUIRE_MESSAGE(backup.code == 0, backup.err);
  MESSAGE("projects acknowledged before the backup: " << before_backup.size() << ", soon after it: " << after_backup);

  CHECK(line_count(backup.out) == 1);
  const auto report = nlohmann::json::parse(backup.out);
  CHECK(report["backup"] == backup_file);
  CHECK(report["bytes"] == std::filesystem::file_size(backup_file));
  CHECK(report["schemaVersion"].get<int>() >= 1);
  CHECK(report["integrity"] == "ok");
  CHECK(report["key"] == backup_file + ".key");
  CHECK(permissions(backup_file) == 0600);
  CHECK(permissions(backup_file + ".key") == 0600);
  CHECK(testing::read_file(backup_file + ".key") == testing::read_file(db + ".key"));

  server.signal(SIGTERM);
  REQUIRE(server.wait(10s) == 0);

  struct Target {
    std::string name;
    std::string db;
    bool previous;  // a database was there and is kept
  };
  const std::vector<Target> targets = {
      {"a fresh path on another machine, with the key", dir.file("elsewhere/data.sqlite"), false},
      {"the same database, replaced", db, true},
  };
  std::filesystem::create_directory(dir.file("elsewhere"));
  for (const auto& target : targets) {
    CAPTURE(target.name);
    const auto restored = testing::run_binary(binary(), {"restore", "--db", target.db, "--from", backup_file, "--with-key"});
    REQUIRE_MESSAGE(restored.code == 0, restored.err);
    CHECK(line_count(restored.out) == 1);
    const auto outcome = nlohmann::json::parse(restored.out);
    CHECK(outcome["restored"] == target.db);
    CHECK(outcome["from"] == backup_file);
    CHECK(outcome["schemaVersion"] == report["schemaVersion"]);
    CHECK(outcome["key"] == target.db + ".key");
    CHECK(permissions(target.db + ".key") == 0600);
    if (target.previous) {
      REQUIRE(outcome["previous"].is_string());
      const std::string previous = outcome["previous"].get<std::string>();
      CHECK(previous.starts_with(db + ".before-restore-"));
      // The replaced database, with everything written after the backup, is kept.
      SQLite::Database kept(previous, SQLite::OPEN_READONLY);
      CHECK(kept.execAndGet("SELECT count(*) FROM projects").getInt() >= static_cast<int>(after_backup));
    } else {
      CHECK(outcome["previous"].is_null());
    }

    testing::Process again(binary(), {"--db", target.db, "--listen", "127.0.0.1:0"});
    const int restored_port = start_and_wait(again);
    // The token issued before the backup still verifies: the key came back too.
    const auto names = project_names(restored_port, id_token);
    for (const auto& name : before_backup) CHECK_MESSAGE(names.count(name) == 1, name);
    CHECK(names.size() >= before_backup.size());
    CHECK(names.size() <= after_backup);
    // One commit's view: the projects are exactly p-1 ... p-N.
    for (std::size_t i = 1; i <= names.size(); ++i) CHECK(names.count("p-" + std::to_string(i)) == 1);
    again.signal(SIGTERM);
    CHECK(again.wait(10s) == 0);
  }
}

TEST_CASE("restore refuses while a server runs on the database, which stays untouched") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  REQUIRE(testing::run_binary(binary(), {"migrate", "--db", db}).code == 0);
  const auto backup = testing::run_binary(binary(), {"backup", "--db", db, "--out", dir.file("b.sqlite")});
  REQUIRE_MESSAGE(backup.code == 0, backup.err);

  testing::Process server(binary(), {"--db", db, "--listen", "127.0.0.1:0"});
  const int port = start_and_wait(server);
  const ino_t before = inode(db);
  const auto refused = testing::run_binary(binary(), {"restore", "--from", dir.file("b.sqlite"), "--db", db});
  CHECK(refused.code == 1);
  CHECK(refused.out.empty());
  CHECK(line_count(refused.err) == 1);
  CHECK_MESSAGE(refused.err.starts_with("cobinar-phone: a server is running on '" + db + "'"), refused.err);
  CHECK(inode(db) == before);
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename().string();
    CHECK_MESSAGE((name.find("before-restore") == std::string::npos && name.find(".tmp-") == std::string::npos), name);
  }
  httplib::Client client("127.0.0.1", port);
  auto health = client.Get("/v1/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);

  // Stopped: the same restore goes through.
  const auto restored = testing::run_binary(binary(), {"restore", "--from", dir.file("b.sqlite"), "--db", db});
  CHECK_MESSAGE(restored.code == 0, restored.err);
  CHECK(inode(db) != before);
}

TEST_CASE("backup and restore refusals: exit 1, one line, nothing overwritten or created") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  REQUIRE(testing::run_binary(binary(), {"migrate", "--db", db}).code == 0);
  testing::write_file(dir.file("taken.sqlite"), "keep me");
  testing::write_file(dir.file("k.sqlite.key"), "keep me");
  testing::write_file(dir.file("text.sqlite"), "not a database at all, just some words in a file....");
  testing::write_file(db + ".key", std::string(64, 'a') + "\n");
  REQUIRE(testing::run_binary(binary(), {"backup", "--db", db, "--out", dir.file("newer.sqlite")}).code == 0);
  {
    SQLite::Database newer(dir.file("newer.sqlite"), SQLite::OPEN_READWRITE);
    newer.exec("PRAGMA user_version = 999");
  }

  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::string expected;
    int code = 1;
  };
  const std::vector<Case> cases = {
      {"backup over an existing file", {"backup", "--db", db, "--out", dir.file("taken.sqlite")}, "already exists"},
      {"backup onto the database", {"backup", "--db", db, "--out", db}, "is the database itself"},
      {"backup of a missing database", {"backup", "--db", dir.file("none.sqlite"), "--out", dir.file("n.sqlite")},
       "does not exist"},
      {"backup key over an existing file", {"backup", "--db", db, "--out", dir.file("k.sqlite"), "--with-key"},
       "already exists"},
      {"backup without --out", {"backup", "--db", db}, "--out", 2},
      {"restore of a missing file", {"restore", "--db", db, "--from", dir.file("none.sqlite")}, "does not exist"},
      {"restore of a non-database", {"restore", "--db", db, "--from", dir.file("text.sqlite")}, "text.sqlite"},
      {"restore of a newer schema", {"restore", "--db", db, "--from", dir.file("newer.sqlite")}, "newer cobinar-phone"},
      {"restore without the backup's key", {"restore", "--db", db, "--from", dir.file("newer.sqlite"), "--with-key"},
       "newer.sqlite.key"},
  };
  std::set<std::string> files_before;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) files_before.insert(entry.path().string());
  const ino_t database = inode(db);
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto result = testing::run_binary(binary(), c.args);
    CHECK(result.code == c.code);
    CHECK(result.out.empty());
    CHECK(line_count(result.err) == 1);
    CHECK(result.err.starts_with("cobinar-phone: "));
    CHECK_MESSAGE(result.err.find(c.expected) != std::string::npos, result.err);
    std::set<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      // restore takes the database lock, whose file stays (by design).
      if (!entry.path().string().ends_with(".lock")) files.insert(entry.path().string());
    }
    CHECK(files == files_before);
    CHECK(inode(db) == database);
  }
  CHECK(testing::read_file(dir.file("taken.sqlite")) == "keep me");
  CHECK(testing::read_file(dir.file("k.sqlite.key")) == "keep me");
}
