// End-to-end: the abuse controls (SPEC §17) through the built binary on SQLite, where the
// breaker's counts live in memory — a restart must rebuild them from the stored requests (sends
// and verifications) and keep an open block, and /metrics counts refusals by rule.
#include <doctest/doctest.h>
#include <signal.h>

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "tests/e2e/helpers.h"
#include "tests/e2e/process.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;

namespace {

using Json = nlohmann::json;
using testing::binary;

struct Answer {
  int status = 0;
  Json body;
};

Answer call(int port, const std::string& method, const std::string& path, const httplib::Headers& headers,
            const Json& body = nullptr) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10);
  httplib::Result result = method == "GET"    ? client.Get(path, headers)
                           : method == "PUT"  ? client.Put(path, headers, body.dump(), "application/json")
                                              : client.Post(path, headers, body.dump(), "application/json");
  Answer answer;
  if (!result) return answer;
  answer.status = result->status;
  answer.body = Json::parse(result->body, nullptr, false);
  return answer;
}

// A server on `db` with live sends delivered to the inbox; stopped with SIGTERM on scope exit.
struct Server {
  explicit Server(const std::string& db)
      : process(binary(), {"--db", db, "--listen", "127.0.0.1:0", "--sms-driver", "inbox", "--send-rate-limit", "1000",
                           "--phone-send-limit", "1000", "--metrics-listen", "127.0.0.1:0"}),
        port(testing::start_and_wait(process)) {
    std::smatch match;
    const std::string err = process.err();
    REQUIRE(std::regex_search(err, match, std::regex(R"(metrics listening address=127\.0\.0\.1:(\d+))")));
    metrics_port = std::stoi(match[1]);
  }
  ~Server() {
    process.signal(SIGTERM);
    process.wait(15s);
  }
  testing::Process process;
  int port;
  int metrics_port = 0;
};

std::string code_in_inbox(int port, const httplib::Headers& console, const std::string& request_id) {
  const auto inbox = call(port, "GET", "/v1/inbox?limit=100", console);
  for (const auto& message : inbox.body["data"]) {
    if (message["requestId"] != request_id) continue;
    std::smatch digits;
    const std::string text = message["message"];
    if (std::regex_search(text, digits, std::regex("[0-9]{6}"))) return digits.str();
  }
  return "";
}

}  // namespace

TEST_CASE("e2e: the breaker's counts and blocks survive a restart on SQLite; /metrics counts by rule") {
  testing::TempDir dir;
  const std::string db = dir.file("abuse.sqlite");
  REQUIRE(testing::run_binary(binary(), {"developer", "create", "--email", "ops@example.com", "--db", db}).code == 0);
  const std::string token = testing::run_binary(binary(), {"token", "--email", "ops@example.com", "--db", db}).out;
  const httplib::Headers console = {{"Authorization", "Bearer " + token.substr(0, token.find('\n'))}};
  Json app;
  httplib::Headers credentials;
  {
    Server server(db);
    const auto project = call(server.port, "POST", "/v1/projects", console, {{"name", "p"}});
    REQUIRE(project.status == 201);
    const auto created = call(server.port, "POST", "/v1/applications", console,
                              {{"name", "Shop"}, {"projectId", project.body["data"]["id"]}, {"environment", "live"}});
    REQUIRE(created.status == 201);
    app = created.body["data"];
    credentials = {{"x-client-id", app["clientId"]}, {"x-client-secret", app["clientSecret"]}, {"x-api-key", app["apiKey"]}};
    REQUIRE(call(server.port, "PUT", "/v1/applications/" + app["id"].get<std::string>() + "/policy", console,
                 {{"conversionBreaker", {{"minSends", 3}, {"minConversion", 0.3}, {"blockSeconds", 3600}}}})
                .status == 200);
    // +447400: three unverified sends. +447402: three sends, one verified (1 of 3 is over 0.3).
    for (int i = 0; i < 3; ++i) {
      CHECK(call(server.port, "POST", "/v1/otp/send", credentials, {{"phone", "+44740012345" + std::to_string(i)}}).status == 201);
      const auto sent = call(server.port, "POST", "/v1/otp/send", credentials, {{"phone", "+44740212345" + std::to_string(i)}});
      REQUIRE(sent.status == 201);
      if (i == 0) {
        const std::string request_id = sent.body["data"]["requestId"];
        const auto verified = call(server.port, "POST", "/v1/otp/verify", credentials,
                                   {{"requestId", request_id}, {"code", code_in_inbox(server.port, console, request_id)}});
        REQUIRE(verified.status == 200);
      }
    }
  }
  std::string reopens_at;
  {
    // The counts are rebuilt from the stored requests: the fourth send to +447400 trips the
    // breaker; +447402 had its verification counted and stays open.
    Server server(db);
    const auto tripped = call(server.port, "POST", "/v1/otp/send", credentials, {{"phone", "+447400123459"}});
    REQUIRE(tripped.status == 403);
    CHECK(tripped.body["error"]["details"]["sends"] == 3);
    CHECK(tripped.body["error"]["details"]["verified"] == 0);
    reopens_at = tripped.body["error"]["details"]["reopensAt"];
    CHECK(call(server.port, "POST", "/v1/otp/send", credentials, {{"phone", "+447402123459"}}).status == 201);
    httplib::Client metrics("127.0.0.1", server.metrics_port);
    const auto scrape = metrics.Get("/metrics");
    REQUIRE(scrape);
    CHECK(scrape->body.find("cobinar_otp_blocked_total{rule=\"conversion_breaker\"} 1\n") != std::string::npos);
    CHECK(scrape->body.find("cobinar_otp_blocked_total{rule=\"country\"} 0\n") != std::string::npos);
  }
  {
    // The open block is kept across a restart, with its figures.
    Server server(db);
    const auto blocked = call(server.port, "POST", "/v1/otp/send", credentials, {{"phone", "+447400123460"}});
    REQUIRE(blocked.status == 403);
    CHECK(blocked.body["error"]["details"]["reopensAt"] == reopens_at);
    const auto blocks = call(server.port, "GET", "/v1/applications/" + app["id"].get<std::string>() + "/blocks", console);
    REQUIRE(blocks.body["data"].size() == 1);
  }
}
