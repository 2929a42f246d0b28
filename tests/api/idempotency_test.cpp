// Idempotency-Key (SPEC §16) through the real server, on either engine: the key's syntax, replays
// byte for byte, what is not stored, scopes, the TTL, and N identical keyed requests at once.
#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <thread>

#include "tests/support/sandbox.h"

using namespace std::chrono_literals;
using nlohmann::json;
using testing::perform;

namespace {

httplib::Headers with_key(httplib::Headers headers, const std::string& key) {
  headers.emplace("Idempotency-Key", key);
  return headers;
}

testing::Exchange keyed_send(testing::Sandbox& sandbox, const testing::AppCredentials& app, const std::string& key,
                             const json& body) {
  return perform(sandbox.client, "POST", "/v1/otp/send", body.dump(), "application/json", with_key(app.headers(), key));
}

testing::Exchange keyed_verify(testing::Sandbox& sandbox, const testing::AppCredentials& app, const std::string& key,
                               const std::string& request_id, const std::string& code) {
  return perform(sandbox.client, "POST", "/v1/otp/verify", json{{"requestId", request_id}, {"code", code}}.dump(),
                 "application/json", with_key(app.headers(), key));
}

bool replayed(const testing::Exchange& exchange) {
  const auto header = exchange.headers.find("Idempotent-Replayed");
  return header != exchange.headers.end() && header->second == "true";
}

std::string header_of(const testing::Exchange& exchange, const std::string& name) {
  const auto header = exchange.headers.find(name);
  return header == exchange.headers.end() ? "" : header->second;
}

std::size_t otp_requests_of(testing::Sandbox& sandbox, const testing::AppCredentials& app) {
  return sandbox.console("GET", "/v1/otp?limit=200&appId=" + app.id).body["data"].size();
}

std::string wrong_code(const std::string& right) { return right == "000000" ? "111111" : "000000"; }

}  // namespace

TEST_CASE("Idempotency-Key syntax: one row per header value") {
  testing::TestServer server(testing::generous_limits());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test");
  struct Row {
    std::string name;
    std::string value;
    int status;
  };
  const std::vector<Row> rows = {
      {"a bare key", "order-1", 201},
      {"the widest alphabet", "!#$%&'()*+,-./0123456789:;<=>?@AZ[]^_`az{|}~", 201},
      {"255 characters", std::string(255, 'k'), 201},
      {"an RFC 8941 string", "\"order-2\"", 201},
      {"256 characters", std::string(256, 'k'), 400},
      {"empty", "", 400},
      {"an empty string", "\"\"", 400},
      {"a space inside", "order 3", 400},
      {"a quote inside", "ord\"er", 400},
      {"a backslash", "ord\\er", 400},
      {"an escape inside a string", "\"ord\\\"er\"", 400},
      {"an unclosed string", "\"order-4", 400},
      {"a tab", "order\t5", 400},
      {"non-ASCII", "ordér", 400},
  };
  int phone = 0;
  for (const auto& row : rows) {
    CAPTURE(row.name);
    const auto answer = keyed_send(sandbox, app, row.value, {{"phone", "+999 100 200 3" + std::to_string(10 + phone++)}});
    CHECK(answer.status == row.status);
    if (row.status == 400) {
      CHECK(answer.body["error"]["code"] == "INVALID_ARGUMENT");
      CHECK(answer.body["error"]["details"]["fields"].contains("Idempotency-Key"));
    }
    CHECK_FALSE(replayed(answer));
  }
  // The quoted and the bare spelling are one key.
  const auto again = keyed_send(sandbox, app, "order-2", {{"phone", "+999 100 200 313"}});
  CHECK(again.status == 201);
  CHECK(replayed(again));
  // Two Idempotency-Key headers are refused.
  httplib::Headers twice = with_key(with_key(app.headers(), "a"), "b");
  const auto doubled = perform(sandbox.client, "POST", "/v1/otp/send", json{{"phone", "+999 100 200 399"}}.dump(),
                               "application/json", twice);
  CHECK(doubled.status == 400);
  // The no-auth POSTs ignore it.
  const auto signup = perform(sandbox.client, "POST", "/v1/auth/login", json{{"email", "x@example.com"}, {"password", "p"}}.dump(),
                              "application/json", {{"Idempotency-Key", "bad key"}});
  CHECK(signup.status != 400);
}

TEST_CASE("a retried send replays the first answer: one code, still valid, nothing counted twice") {
  testing::TestServer server(testing::generous_limits());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test");
  const json body = {{"phone", "+999 482 918 102"}};
  const auto first = keyed_send(sandbox, app, "send-1", body);
  REQUIRE(first.status == 201);
  CHECK_FALSE(replayed(first));
  server.clock().advance(2s);
  const auto retry = keyed_send(sandbox, app, "send-1", body);
  CHECK(retry.status == 201);
  CHECK(replayed(retry));
  CHECK(retry.raw_body == first.raw_body);
  CHECK(header_of(retry, "x-request-id") != header_of(first, "x-request-id"));
  CHECK(otp_requests_of(sandbox, app) == 1);
  CHECK(sandbox.console("GET", "/v1/inbox").body["data"].size() == 1);
  CHECK(sandbox.console("GET", "/v1/logs?limit=200").body["data"].size() == 1);  // one otp.created
  // The code on the phone is the one that works.
  const std::string request_id = first.body["data"]["requestId"];
  CHECK(sandbox.verify(app, request_id, first.body["data"]["testCode"]).status == 200);
}

TEST_CASE("a retried verify replays its outcome without another attempt") {
  testing::TestServer server(testing::generous_limits());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test");
  const auto sent = sandbox.send(app, "+999 482 918 102");
  const std::string request_id = sent.body["data"]["requestId"];
  const std::string code = sent.body["data"]["testCode"];

  const auto wrong = keyed_verify(sandbox, app, "v-wrong", request_id, wrong_code(code));
  REQUIRE(wrong.status == 400);
  CHECK(wrong.body["error"]["code"] == "INVALID_CODE");
  CHECK(wrong.body["error"]["details"]["attemptsRemaining"] == 4);
  const auto wrong_again = keyed_verify(sandbox, app, "v-wrong", request_id, wrong_code(code));
  CHECK(wrong_again.raw_body == wrong.raw_body);  // the first request's error.requestId too
  CHECK(replayed(wrong_again));
  CHECK(sandbox.console("GET", "/v1/otp/" + request_id).body["data"]["attempts"] == 1);

  const auto right = keyed_verify(sandbox, app, "v-right", request_id, code);
  REQUIRE(right.status == 200);
  CHECK(right.body["data"]["receipt"].is_string());
  const auto right_again = keyed_verify(sandbox, app, "v-right", request_id, code);
  CHECK(right_again.status == 200);
  CHECK(replayed(right_again));
  CHECK(right_again.raw_body == right.raw_body);  // the same receipt
  // Without the key the request is what it is now: verified.
  CHECK(sandbox.verify(app, request_id, code).body["error"]["code"] == "OTP_ALREADY_VERIFIED");
  CHECK(sandbox.console("GET", "/v1/users/%2B999482918102").body["data"]["verificationCount"] == 1);
}

TEST_CASE("a key reused with another path or body is 422; other scopes have their own keys") {
  testing::TestServer server(testing::generous_limits());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test");
  const auto other_app = sandbox.create_app("test", "Other");
  REQUIRE(keyed_send(sandbox, app, "k", {{"phone", "+999 482 918 102"}}).status == 201);
  const auto other_body = keyed_send(sandbox, app, "k", {{"phone", "+999 482 918 103"}});
  CHECK(other_body.status == 422);
  CHECK(other_body.body["error"]["code"] == "IDEMPOTENCY_KEY_REUSED");
  // The same bytes with another spacing are another body.
  const auto respaced = perform(sandbox.client, "POST", "/v1/otp/send", R"({"phone": "+999 482 918 102"})",
                                "application/json", with_key(app.headers(), "k"));
  CHECK(respaced.status == 422);
  const auto other_path = keyed_verify(sandbox, app, "k", "01900000-0000-7000-8000-000000000000", "123456");
  CHECK(other_path.status == 422);
  // A 422 stores nothing and the first answer still replays.
  CHECK(replayed(keyed_send(sandbox, app, "k", {{"phone", "+999 482 918 102"}})));
  // Another application's "k" is its own.
  const auto elsewhere = keyed_send(sandbox, other_app, "k", {{"phone", "+999 482 918 103"}});
  CHECK(elsewhere.status == 201);
  CHECK_FALSE(replayed(elsewhere));
  // Another developer's console "k" is theirs.
  testing::Sandbox bob(server, "bob@example.com");
  auto headers = with_key(sandbox.auth, "k");
  const auto mine = perform(sandbox.client, "POST", "/v1/projects", json{{"name", "P"}}.dump(), "application/json", headers);
  CHECK(mine.status == 201);
  const auto theirs = perform(bob.client, "POST", "/v1/projects", json{{"name", "P"}}.dump(), "application/json",
                              with_key(bob.auth, "k"));
  CHECK(theirs.status == 201);
  CHECK_FALSE(replayed(theirs));
  CHECK(theirs.body["data"]["id"] != mine.body["data"]["id"]);
}

TEST_CASE("answers that are not stored leave no trace of the key") {
  testing::TestServer server({[](app::Config& config) {
                                config.otp.send_rate_limit = 1;
                                config.otp.phone_send_limit = 1000;
                              },
                              nullptr});
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test");
  // 401: wrong credentials.
  auto bad = app;
  bad.api_key = "ph_test_api_wrong";
  CHECK(keyed_send(sandbox, bad, "k", {{"phone", "+999 482 918 100"}}).status == 401);
  // 400 of the body is stored: the same key and body replay it.
  const auto invalid = keyed_send(sandbox, app, "k-invalid", {{"phone", 12}});
  CHECK(invalid.status == 400);
  CHECK(replayed(keyed_send(sandbox, app, "k-invalid", {{"phone", 12}})));
  // The quota of one send a minute is taken by this one.
  REQUIRE(keyed_send(sandbox, app, "k", {{"phone", "+999 482 918 101"}}).status == 201);
  // 429 is not stored: after the minute the key runs as a first request, whatever its body.
  const auto limited = keyed_send(sandbox, app, "k-limited", {{"phone", "+999 482 918 102"}});
  CHECK(limited.status == 429);
  // A replay is answered while over the limit, and uses no quota.
  const auto replay = keyed_send(sandbox, app, "k", {{"phone", "+999 482 918 101"}});
  CHECK(replay.status == 201);
  CHECK(replayed(replay));
  server.clock().advance(61s);
  const auto after = keyed_send(sandbox, app, "k-limited", {{"phone", "+999 482 918 103"}});
  CHECK(after.status == 201);
  CHECK_FALSE(replayed(after));
}

TEST_CASE("console POSTs: one project per key; a stored application answer keeps its secrets sealed") {
  testing::TestServer server(testing::generous_limits());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto headers = with_key(sandbox.auth, "project-1");
  const std::string body = json{{"name", "Shop"}}.dump();
  const auto first = perform(sandbox.client, "POST", "/v1/projects", body, "application/json", headers);
  const auto second = perform(sandbox.client, "POST", "/v1/projects", body, "application/json", headers);
  REQUIRE(first.status == 201);
  CHECK(replayed(second));
  CHECK(second.raw_body == first.raw_body);
  CHECK(sandbox.console("GET", "/v1/projects").body["data"].size() == 2);  // the sandbox's own and this one

  const std::string app_body = json{{"name", "App"}, {"projectId", first.body["data"]["id"]}, {"environment", "test"}}.dump();
  const auto created = perform(sandbox.client, "POST", "/v1/applications", app_body, "application/json",
                               with_key(sandbox.auth, "app-1"));
  REQUIRE(created.status == 201);
  const auto again = perform(sandbox.client, "POST", "/v1/applications", app_body, "application/json",
                             with_key(sandbox.auth, "app-1"));
  CHECK(again.raw_body == created.raw_body);
  const std::string secret = created.body["data"]["clientSecret"];
  const std::string stored = testing::stored_bytes(server);
  CHECK(stored.find(secret) == std::string::npos);
  CHECK(stored.find(created.body["data"]["apiKey"].get<std::string>()) == std::string::npos);
  // Keys are not kept past --idempotency-ttl-hours (24 by default).
  server.clock().advance(24h + 1s);
  const auto fresh = server.application().runtime().accounts().issue_token(sandbox.email);
  REQUIRE(fresh.ok());
  const auto later = perform(sandbox.client, "POST", "/v1/projects", json{{"name", "Other"}}.dump(), "application/json",
                             with_key(testing::bearer(fresh.value()), "project-1"));
  CHECK(later.status == 201);
  CHECK_FALSE(replayed(later));
  // "project-1" was taken over by that request; the expired "app-1" is what retention removes.
  CHECK(server.application().runtime().idempotency().purge_expired() == 1);
}

TEST_CASE("sixteen identical keyed sends at once: one effect, identical answers") {
  testing::TestServer server(testing::generous_limits());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test");
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    const std::string key = "burst-" + std::to_string(round);
    const json body = {{"phone", "+999 482 918 10" + std::to_string(round)}};
    std::vector<testing::Exchange> answers(16);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < answers.size(); ++i) {
      threads.emplace_back([&, i] {
        httplib::Client client("127.0.0.1", server.port());
        answers[i] = perform(client, "POST", "/v1/otp/send", body.dump(), "application/json", with_key(app.headers(), key));
      });
    }
    for (auto& t : threads) t.join();
    std::set<std::string> bodies;
    int firsts = 0;
    for (const auto& answer : answers) {
      if (answer.status == 409) {
        CHECK(answer.body["error"]["code"] == "IDEMPOTENCY_KEY_IN_USE");
        CHECK(header_of(answer, "Retry-After") == "1");
        continue;
      }
      REQUIRE(answer.status == 201);
      bodies.insert(answer.raw_body);
      if (!replayed(answer)) ++firsts;
    }
    CHECK(bodies.size() == 1);
    CHECK(firsts == 1);
  }
  CHECK(otp_requests_of(sandbox, app) == 3);
}
