// End-to-end: what an operator sees when things go wrong, through the real binary. A gateway
// that is down, a disk that is full (a file size limit set on the running server with
// prlimit(2)), live delivery that was never configured, SIGHUP, and the expiry sweep.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <SQLiteCpp/Database.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/e2e/helpers.h"
#include "tests/e2e/process.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;

namespace {

using testing::binary;
using testing::free_port;
using testing::start_and_wait;

nlohmann::json parse(const httplib::Result& result) {
  REQUIRE(result);
  return nlohmann::json::parse(result->body, nullptr, false);
}

// A developer (made with the CLI) and one application of `environment` on a running server.
struct Tenant {
  httplib::Headers console;
  httplib::Headers app;
  std::string app_id;
};

Tenant make_tenant(const std::string& db, httplib::Client& client, const std::string& environment) {
  REQUIRE(testing::run_binary(binary(), {"developer", "create", "--email", "ops@example.com", "--db", db}).code == 0);
  const std::string token = testing::run_binary(binary(), {"token", "--email", "ops@example.com", "--db", db}).out;
  Tenant tenant;
  tenant.console = {{"Authorization", "Bearer " + token.substr(0, token.find('\n'))}};
  const auto project = parse(client.Post("/v1/projects", tenant.console, R"({"name":"p"})", "application/json"));
  const auto created = parse(client.Post(
      "/v1/applications", tenant.console,
      nlohmann::json{{"name", "Shop"}, {"projectId", project["data"]["id"]}, {"environment", environment}}.dump(),
      "application/json"))["data"];
  tenant.app_id = created["id"];
  tenant.app = {{"x-client-id", created["clientId"]}, {"x-client-secret", created["clientSecret"]},
                {"x-api-key", created["apiKey"]}};
  return tenant;
}

// Polls until `ready()` or the deadline; true if it became ready.
template <typename Fn>
bool eventually(Fn&& ready, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return ready();
}

}  // namespace

TEST_CASE("without --sms-driver a live send to a real number is 503 SMS_NOT_CONFIGURED, and start-up says so") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  testing::Process server(binary(), {"--db", db, "--listen", "127.0.0.1:0"});
  httplib::Client client("127.0.0.1", start_and_wait(server));
  CHECK(server.wait_for_stderr("warn live SMS delivery is not configured", 5s));
  const Tenant tenant = make_tenant(db, client, "live");

  auto refused = client.Post("/v1/otp/send", tenant.app, R"({"phone":"+1 415 555 2671"})", "application/json");
  REQUIRE(refused);
  CHECK(refused->status == 503);
  const auto error = parse(refused)["error"];
  CHECK(error["code"] == "SMS_NOT_CONFIGURED");
  CHECK(error["message"].get<std::string>().find("--sms-driver") != std::string::npos);
  // Nothing was stored, so nothing was rate-limited either: the OTP list is empty.
  CHECK(parse(client.Get("/v1/otp", tenant.console))["data"].empty());

  // +999 virtual numbers still go to the inbox.
  auto virtual_number = client.Post("/v1/otp/send", tenant.app, R"({"phone":"+999 482 918 102"})", "application/json");
  REQUIRE(virtual_number);
  CHECK(virtual_number->status == 201);
  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);

  // Chosen on purpose, the inbox driver keeps live codes in the inbox, and no warning is logged.
  testing::Process sandbox(binary(), {"--db", db, "--listen", "127.0.0.1:0", "--sms-driver", "inbox"});
  httplib::Client sandbox_client("127.0.0.1", start_and_wait(sandbox));
  CHECK(sandbox.err().find("not configured") == std::string::npos);
  auto sent = sandbox_client.Post("/v1/otp/send", tenant.app, R"({"phone":"+1 415 555 2671"})", "application/json");
  REQUIRE(sent);
  CHECK(sent->status == 201);
  CHECK(parse(sandbox_client.Get("/v1/inbox?phone=%2B14155552671", tenant.console))["data"].size() == 1);
  sandbox.signal(SIGTERM);
  CHECK(sandbox.wait(10s) == 0);
}

TEST_CASE("a gateway that is down: one log line for many failures, shown by health, recovered when it is back") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  const int gateway_port = free_port();
  testing::Process server(binary(), {"--db", db, "--listen", "127.0.0.1:0", "--sms-driver", "http", "--sms-http-url",
                                     "http://127.0.0.1:" + std::to_string(gateway_port) + "/send?text={message}",
                                     "--sms-retry-schedule", "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1"});
  httplib::Client client("127.0.0.1", start_and_wait(server));
  const Tenant tenant = make_tenant(db, client, "live");
  for (const char* phone : {"+1 415 555 2671", "+1 415 555 2672", "+1 415 555 2673"}) {
    auto sent = client.Post("/v1/otp/send", tenant.app, nlohmann::json{{"phone", phone}}.dump(), "application/json");
    REQUIRE(sent);
    REQUIRE(sent->status == 201);
  }

  // Several attempts fail (3 jobs, retried every second), but the log has one line for them.
  REQUIRE(server.wait_for_stderr("component=sms kind=delivery_failed", 10s));
  const std::string line_pattern = "warn component failing component=sms kind=delivery_failed reason=\"http driver: "
                                   "gateway request failed";
  CHECK(server.err().find(line_pattern) != std::string::npos);
  std::this_thread::sleep_for(2500ms);
  const std::string err = server.err();
  const auto occurrences = [&](const std::string& text) {
    std::size_t count = 0;
    for (auto at = err.find(text); at != std::string::npos; at = err.find(text, at + 1)) ++count;
    return count;
  };
  CHECK(occurrences("kind=delivery_failed") == 1);
  // No phone number and no code in it.
  CHECK(err.find("415555267") == std::string::npos);

  // Health names the failing dependency, but the server itself is still operational.
  auto health = client.Get("/v1/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  const auto data = parse(health)["data"];
  CHECK(data["status"] == "operational");
  REQUIRE(data["failing"].size() == 1);
  CHECK(data["failing"][0]["component"] == "sms");
  CHECK(data["failing"][0]["kind"] == "delivery_failed");
  CHECK(data["failing"][0]["impact"] == "dependency");
  CHECK(data["failing"][0]["count"].get<int>() >= 3);

  // The gateway comes up: the messages go out, the log says so once, and health is clean.
  httplib::Server gateway;
  std::atomic<int> received{0};
  gateway.Post("/send", [&](const httplib::Request&, httplib::Response& res) {
    ++received;
    res.set_content("ok", "text/plain");
  });
  REQUIRE(gateway.bind_to_port("127.0.0.1", gateway_port));
  std::thread gateway_thread([&] { gateway.listen_after_bind(); });
  CHECK(eventually([&] { return received == 3; }));
  CHECK(server.wait_for_stderr("info component recovered component=sms kind=delivery_failed", 10s));
  health = client.Get("/v1/health");
  REQUIRE(health);
  CHECK(parse(health)["data"].contains("failing") == false);
  gateway.stop();
  gateway_thread.join();
  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}

TEST_CASE("a full disk: writes answer 503, health is 503 degraded naming the writer; stored data survives") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  testing::Process server(binary(), {"--db", db, "--listen", "127.0.0.1:0", "--send-rate-limit", "100000",
                                     "--phone-send-limit", "100000"});
  httplib::Client client("127.0.0.1", start_and_wait(server));
  const Tenant tenant = make_tenant(db, client, "test");
  auto first = client.Post("/v1/otp/send", tenant.app, R"({"phone":"+1 415 555 0001"})", "application/json");
  REQUIRE(first);
  REQUIRE(first->status == 201);
  const std::string stored_id = parse(first)["data"]["requestId"];

  // "Disk full": no write of the server's can store a byte any more (EFBIG: the server ignores
  // SIGXFSZ). A limit at the files' current size would still let a small commit land in WAL
  // space already allocated, and such a commit is a real recovery, so health could turn back
  // before the test reads it.
  // Only the soft limit moves, so putting it back needs no privilege.
  rlimit previous{};
  REQUIRE(::prlimit(server.pid(), RLIMIT_FSIZE, nullptr, &previous) == 0);
  rlimit limit{0, previous.rlim_max};
  REQUIRE(::prlimit(server.pid(), RLIMIT_FSIZE, &limit, nullptr) == 0);

  int refused = 0;
  for (int i = 0; i < 2000 && refused == 0; ++i) {
    const std::string phone = "+1 415 556 " + std::to_string(1000 + i);
    auto sent = client.Post("/v1/otp/send", tenant.app, nlohmann::json{{"phone", phone}}.dump(), "application/json");
    REQUIRE(sent);
    if (sent->status == 503) {
      ++refused;
      CHECK(parse(sent)["error"]["code"] == "UNAVAILABLE");
    } else {
      REQUIRE(sent->status == 201);
    }
  }
  REQUIRE(refused == 1);
  CHECK(server.wait_for_stderr("error component failing component=writer kind=commit_failed", 5s));

  auto health = client.Get("/v1/health");
  REQUIRE(health);
  CHECK(health->status == 503);
  auto data = parse(health)["data"];
  CHECK(data["status"] == "degraded");
  CHECK(data["component"] == "writer");
  bool writer_named = false;
  for (const auto& failure : data["failing"]) {
    if (failure["component"] == "writer" && failure["impact"] == "degraded") writer_named = true;
  }
  CHECK(writer_named);
  // Reads still work and what was stored is there.
  auto read = client.Get("/v1/otp/" + stored_id, tenant.console);
  REQUIRE(read);
  CHECK(read->status == 200);

  // Space comes back: the next write succeeds and health is operational again.
  REQUIRE(::prlimit(server.pid(), RLIMIT_FSIZE, &previous, nullptr) == 0);
  auto again = client.Post("/v1/otp/send", tenant.app, R"({"phone":"+1 415 555 0002"})", "application/json");
  REQUIRE(again);
  CHECK(again->status == 201);
  CHECK(server.wait_for_stderr("info component recovered component=writer", 5s));
  health = client.Get("/v1/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}

TEST_CASE("SIGHUP re-reads the TLS certificate for new connections and keeps serving") {
  testing::TempDir dir;
  const std::string cert = dir.file("cert.pem"), key = dir.file("key.pem");
  auto make_certificate = [&](const std::string& common_name) {
    const auto made = testing::run_binary(
        "/usr/bin/openssl", {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj",
                             "/CN=" + common_name, "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1", "-keyout",
                             key, "-out", cert});
    REQUIRE_MESSAGE(made.code == 0, made.err);
  };
  make_certificate("first");
  const std::string first_cert = dir.file("first.pem");
  std::filesystem::copy_file(cert, first_cert);

  testing::Process server(binary(), {"--db", dir.file("data.sqlite"), "--listen", "127.0.0.1:0", "--tls-cert", cert,
                                     "--tls-key", key});
  const int port = start_and_wait(server);
  httplib::SSLClient kept("127.0.0.1", port);  // keep-alive: one connection across the reload
  kept.set_keep_alive(true);
  kept.set_ca_cert_path(first_cert.c_str());
  kept.enable_server_certificate_verification(true);
  REQUIRE(kept.Get("/v1/health"));

  make_certificate("second");
  server.signal(SIGHUP);
  REQUIRE(server.wait_for_stderr("reloaded TLS certificate and key", 5s));

  // New connections get the new certificate (verifying against it succeeds, against the old fails).
  httplib::SSLClient fresh("127.0.0.1", port);
  fresh.set_ca_cert_path(cert.c_str());
  fresh.enable_server_certificate_verification(true);
  auto health = fresh.Get("/v1/health");
  REQUIRE_MESSAGE(health, httplib::to_string(health.error()));
  CHECK(health->status == 200);
  httplib::SSLClient stale("127.0.0.1", port);
  stale.set_ca_cert_path(first_cert.c_str());
  stale.enable_server_certificate_verification(true);
  CHECK(!stale.Get("/v1/health"));
  // The connection opened before the reload still works.
  auto again = kept.Get("/v1/health");
  REQUIRE(again);
  CHECK(again->status == 200);

  // A broken pair is refused with a log line, and the server keeps the working one.
  { std::ofstream(key, std::ios::trunc) << "not a key\n"; }
  server.signal(SIGHUP);
  REQUIRE(server.wait_for_stderr("TLS reload failed; still serving the previous certificate", 5s));
  httplib::SSLClient after("127.0.0.1", port);
  after.set_ca_cert_path(cert.c_str());
  after.enable_server_certificate_verification(true);
  CHECK(after.Get("/v1/health"));

  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}

TEST_CASE("SIGHUP re-reads the Firebase certificate file and says how many keys it holds") {
  testing::TempDir dir;
  const std::string pem = dir.file("google.pem"), key = dir.file("google.key"), certs = dir.file("certs.json");
  const auto made = testing::run_binary(
      "/usr/bin/openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=securetoken", "-days", "1",
                           "-keyout", key, "-out", pem});
  REQUIRE_MESSAGE(made.code == 0, made.err);
  std::stringstream text;
  text << std::ifstream(pem).rdbuf();
  { std::ofstream(certs) << nlohmann::json{{"kid-1", text.str()}}.dump(); }

  testing::Process server(binary(), {"--db", dir.file("data.sqlite"), "--listen", "127.0.0.1:0",
                                     "--firebase-project-id", "demo-project", "--firebase-certs", certs});
  start_and_wait(server);
  server.signal(SIGHUP);
  CHECK(server.wait_for_stderr("info reloaded Firebase certificates file=" + certs + " keys=1", 5s));
  { std::ofstream(certs, std::ios::trunc) << nlohmann::json{{"kid-1", text.str()}, {"kid-2", text.str()}}.dump(); }
  server.signal(SIGHUP);
  CHECK(server.wait_for_stderr("keys=2", 5s));
  { std::ofstream(certs, std::ios::trunc) << "{broken"; }
  server.signal(SIGHUP);
  CHECK(server.wait_for_stderr("the file holds no usable certificate", 5s));
  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}

TEST_CASE("SIGHUP without certificates to reload is logged and harmless") {
  testing::TempDir dir;
  testing::Process server(binary(), {"--db", dir.file("data.sqlite"), "--listen", "127.0.0.1:0"});
  httplib::Client client("127.0.0.1", start_and_wait(server));
  server.signal(SIGHUP);
  CHECK(server.wait_for_stderr("SIGHUP: nothing to reload", 5s));
  auto health = client.Get("/v1/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}

TEST_CASE("a request that expires unverified loses its code hash within a minute; verify still says expired once") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  testing::Process server(binary(), {"--db", db, "--listen", "127.0.0.1:0", "--otp-ttl-seconds", "30"});
  httplib::Client client("127.0.0.1", start_and_wait(server));
  const Tenant tenant = make_tenant(db, client, "test");
  const auto sent = parse(client.Post("/v1/otp/send", tenant.app, R"({"phone":"+1 415 555 0001"})", "application/json"));
  const std::string id = sent["data"]["requestId"];
  const std::string code = sent["data"]["testCode"];

  auto stored = [&] {
    SQLite::Database reader(db, SQLite::OPEN_READONLY);
    SQLite::Statement query(reader, "SELECT status, code_hash IS NULL FROM otp_requests WHERE id = ?");
    query.bind(1, id);
    REQUIRE(query.executeStep());
    return std::pair<std::string, bool>{query.getColumn(0).getString(), query.getColumn(1).getInt() == 1};
  };
  CHECK(stored() == std::pair<std::string, bool>{"pending", false});
  // TTL 30 s, then the sweep runs every 20 s.
  CHECK(eventually([&] { return stored() == std::pair<std::string, bool>{"expired", true}; }, 60s));

  auto verify = client.Post("/v1/otp/verify", tenant.app, nlohmann::json{{"requestId", id}, {"code", code}}.dump(),
                            "application/json");
  REQUIRE(verify);
  CHECK(verify->status == 410);
  CHECK(parse(verify)["error"]["code"] == "OTP_EXPIRED");
  verify = client.Post("/v1/otp/verify", tenant.app, nlohmann::json{{"requestId", id}, {"code", code}}.dump(),
                       "application/json");
  REQUIRE(verify);
  CHECK(verify->status == 410);
  // otp.expired still marks the first verify after the TTL, exactly once.
  const auto logs = parse(client.Get("/v1/logs", tenant.console))["data"];
  int expired_events = 0;
  for (const auto& event : logs) expired_events += event["event"] == "otp.expired" ? 1 : 0;
  CHECK(expired_events == 1);
  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}
