// End-to-end: --metrics-listen serves the Prometheus exposition on a listener of its own, the
// counters move with real traffic, and the scrape passes `promtool check metrics` when promtool
// is installed (COBINAR_REQUIRE_PROMTOOL=1, as CI sets it, makes its absence a failure).
#include <doctest/doctest.h>
#include <httplib.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "tests/e2e/helpers.h"
#include "tests/e2e/process.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;

namespace {

using testing::binary;

// The port of the first log line `<message> address=127.0.0.1:<port>`.
int logged_port(testing::Process& process, const std::string& message) {
  REQUIRE_MESSAGE(process.wait_for_stderr(message + " ", 10s), process.err());
  std::smatch match;
  const std::string err = process.err();
  REQUIRE(std::regex_search(err, match, std::regex("(^|\n)[^\n]*" + message + R"( address=127\.0\.0\.1:(\d+))")));
  return std::stoi(match[2]);
}

// Socket inodes the process listens on over TCP (its descriptors matched with /proc/net/tcp*).
std::set<std::string> listening_sockets(int pid) {
  std::set<std::string> owned;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code error;
    const std::string target = std::filesystem::read_symlink(entry.path(), error).string();
    if (!error && target.starts_with("socket:[")) owned.insert(target.substr(8, target.size() - 9));
  }
  std::set<std::string> listening;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
      if (state == "0A" && owned.count(inode) > 0) listening.insert(inode);  // 0A: LISTEN
    }
  }
  return listening;
}

// Sample lines by their name and labels, e.g. `cobinar_otp_sends_total{outcome="sent"}` -> 1.
std::map<std::string, double> samples(const std::string& exposition) {
  std::map<std::string, double> out;
  std::istringstream stream(exposition);
  for (std::string line; std::getline(stream, line);) {
    if (line.empty() || line.starts_with("#")) continue;
    const std::size_t space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

std::optional<std::string> promtool() {
  for (const char* candidate : {"/usr/bin/promtool", "/usr/local/bin/promtool"}) {
    if (std::filesystem::exists(candidate)) return candidate;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("metrics: --metrics-listen serves counters that move with traffic, on its own port only") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  REQUIRE(testing::run_binary(binary(), {"developer", "create", "--email", "ops@example.com", "--db", db}).code == 0);
  const std::string token = testing::run_binary(binary(), {"token", "--email", "ops@example.com", "--db", db}).out;
  const httplib::Headers console = {{"Authorization", "Bearer " + token.substr(0, token.find('\n'))}};

  testing::Process server(binary(), {"--db", db, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                                     "--send-rate-limit", "1"});
  const int api_port = logged_port(server, "listening");
  const int metrics_port = logged_port(server, "metrics listening");
  REQUIRE(api_port != metrics_port);
  CHECK(listening_sockets(server.pid()).size() == 2);

  httplib::Client api("127.0.0.1", api_port);
  api.set_keep_alive(true);  // so an open connection is there to count
  httplib::Client scraper("127.0.0.1", metrics_port);
  auto project = api.Post("/v1/projects", console, R"({"name":"p"})", "application/json");
  REQUIRE(project->status == 201);
  auto created = api.Post("/v1/applications", console,
                          nlohmann::json{{"name", "Shop"},
                                         {"projectId", nlohmann::json::parse(project->body)["data"]["id"]},
                                         {"environment", "test"}}
                              .dump(),
                          "application/json");
  REQUIRE(created->status == 201);
  const auto app = nlohmann::json::parse(created->body)["data"];
  const httplib::Headers credentials = {
      {"x-client-id", app["clientId"]}, {"x-client-secret", app["clientSecret"]}, {"x-api-key", app["apiKey"]}};

  // Before any OTP traffic: the outcome series exist, at zero.
  auto before = scraper.Get("/metrics");
  REQUIRE(before);
  CHECK(samples(before->body).at(R"(cobinar_otp_sends_total{outcome="sent"})") == 0);

  auto sent = api.Post("/v1/otp/send", credentials, R"({"phone":"+999 482 918 102"})", "application/json");
  REQUIRE(sent->status == 201);
  const auto data = nlohmann::json::parse(sent->body)["data"];
  const std::string code = data["testCode"];
  const std::string request_id = data["requestId"];
  // --send-rate-limit 1: the second send in the minute is refused.
  CHECK(api.Post("/v1/otp/send", credentials, R"({"phone":"+999 482 918 103"})", "application/json")->status == 429);
  CHECK(api.Post("/v1/otp/verify", credentials,
                 nlohmann::json{{"requestId", request_id}, {"code", code == "000000" ? "111111" : "000000"}}.dump(),
                 "application/json")
            ->status == 400);
  CHECK(api.Post("/v1/otp/verify", credentials, nlohmann::json{{"requestId", request_id}, {"code", code}}.dump(),
                 "application/json")
            ->status == 200);
  CHECK(api.Get("/v1/otp/" + request_id, console)->status == 200);
  CHECK(api.Get("/v1/users/%2B999482918102", console)->status == 200);

  // /metrics belongs to the metrics listener alone; the metrics listener serves nothing else.
  auto on_api = api.Get("/metrics");
  REQUIRE(on_api);
  CHECK(on_api->status == 404);
  CHECK(scraper.Get("/v1/health")->status == 404);
  CHECK(scraper.Post("/metrics", "{}", "application/json")->status == 405);

  auto scrape = scraper.Get("/metrics");
  REQUIRE(scrape);
  CHECK(scrape->status == 200);
  CHECK(scrape->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  const std::string text = scrape->body;
  const auto values = samples(text);
  auto value = [&](const std::string& key) {
    const auto found = values.find(key);
    CHECK_MESSAGE(found != values.end(), key);
    return found == values.end() ? -1.0 : found->second;
  };
  CHECK(value(R"(cobinar_otp_sends_total{outcome="sent"})") == 1);
  CHECK(value(R"(cobinar_otp_sends_total{outcome="rate_limited"})") == 1);
  CHECK(value(R"(cobinar_otp_verifies_total{outcome="invalid_code"})") == 1);
  CHECK(value(R"(cobinar_otp_verifies_total{outcome="verified"})") == 1);
  CHECK(value(R"(cobinar_otp_verifies_total{outcome="expired"})") == 0);
  CHECK(value(R"(cobinar_rate_limited_total{method="POST",route="/v1/otp/send"})") == 1);
  CHECK(value(R"(cobinar_http_requests_total{method="POST",route="/v1/otp/send",status_class="2xx"})") == 1);
  CHECK(value(R"(cobinar_http_requests_total{method="POST",route="/v1/otp/send",status_class="4xx"})") == 1);
  CHECK(value(R"(cobinar_http_requests_total{method="POST",route="/v1/otp/verify",status_class="4xx"})") == 1);
  CHECK(value(R"(cobinar_http_requests_total{method="GET",route="/v1/otp/{id}",status_class="2xx"})") == 1);
  CHECK(value(R"(cobinar_http_requests_total{method="GET",route="/v1/users/{phoneNumber}",status_class="2xx"})") == 1);
  CHECK(value(R"(cobinar_http_requests_total{method="other",route="unmatched",status_class="4xx"})") == 1);
  CHECK(value(R"(cobinar_http_request_duration_seconds_count{method="POST",route="/v1/otp/verify"})") == 2);
  CHECK(value(R"(cobinar_http_request_duration_seconds_bucket{method="POST",route="/v1/otp/verify",le="+Inf"})") == 2);
  // Never an id or a phone number in a label.
  CHECK(text.find(request_id) == std::string::npos);
  CHECK(text.find("482918102") == std::string::npos);

  CHECK(value("cobinar_db_commit_batch_jobs_count") >= 3);
  CHECK(value("cobinar_db_commit_duration_seconds_count") >= 3);
  CHECK(value("cobinar_db_wal_size_bytes") > 0);
  CHECK(value("cobinar_db_size_bytes") > 0);
  CHECK(value("cobinar_sms_queue_depth") == 0);  // a test app's codes go to the inbox
  CHECK(value("cobinar_sms_queue_oldest_age_seconds") == 0);
  CHECK(value("cobinar_webhook_queue_depth") == 0);
  CHECK(value("cobinar_webhook_queue_oldest_age_seconds") == 0);
  CHECK(value(R"(cobinar_webhook_delivery_attempts_total{outcome="delivered"})") == 0);
  CHECK(value("cobinar_http_open_connections") >= 1);  // api's keep-alive connection
  CHECK(value("process_resident_memory_bytes") > 1e6);
  CHECK(value("process_open_fds") >= 4);
  CHECK(value("cobinar_process_threads") >= 6);
  CHECK(value("process_start_time_seconds") > 1.7e9);

  if (const auto tool = promtool()) {
    const std::string file = dir.file("scrape.txt");
    testing::write_file(file, text);
    const auto checked = testing::run_binary("/bin/sh", {"-c", *tool + " check metrics < '" + file + "'"});
    CHECK_MESSAGE(checked.code == 0, std::string(checked.out + checked.err));
  } else {
    const char* required = std::getenv("COBINAR_REQUIRE_PROMTOOL");
    CHECK_MESSAGE(!(required && std::string(required) == "1"), "promtool is not installed");
    MESSAGE("promtool not installed: the exposition was not linted");
  }

  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
  // Scrapes stay out of the access log.
  CHECK(server.err().find("path=/metrics") != std::string::npos);  // the API port's 404 is logged
  CHECK(server.err().find("method=GET path=/metrics status=200") == std::string::npos);
}

TEST_CASE("metrics: without --metrics-listen only the API listens; COBINAR_METRICS_LISTEN turns it on") {
  testing::TempDir dir;
  {
    testing::Process server(binary(), {"--db", dir.file("data.sqlite"), "--listen", "127.0.0.1:0"});
    const int port = logged_port(server, "listening");
    CHECK(listening_sockets(server.pid()).size() == 1);
    httplib::Client api("127.0.0.1", port);
    CHECK(api.Get("/metrics")->status == 404);
    server.signal(SIGTERM);
    CHECK(server.wait(10s) == 0);
    CHECK(server.err().find("metrics listening") == std::string::npos);
  }
  testing::Process server(binary(), {"--db", dir.file("data.sqlite"), "--listen", "127.0.0.1:0"},
                          {"COBINAR_METRICS_LISTEN=127.0.0.1:0"});
  logged_port(server, "listening");
  const int metrics_port = logged_port(server, "metrics listening");
  CHECK(listening_sockets(server.pid()).size() == 2);
  httplib::Client scraper("127.0.0.1", metrics_port);
  auto scrape = scraper.Get("/metrics");
  REQUIRE(scrape);
  CHECK(scrape->status == 200);
  CHECK(scrape->body.find("# TYPE cobinar_otp_sends_total counter\n") != std::string::npos);
  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}
