// Abuse controls (SPEC §17) through the real server, on either engine: the policy's abuse
// fields, each rule's refusal and what it leaves behind (no request, no SMS, no quota, one
// otp.blocked event, a metric), the safe list and exemptions, the conversion breaker with its
// blocks and lift, the daily budget, and the what-if replay on a simulated pumping run.
#include <doctest/doctest.h>

#include <regex>

#include "core/templates.h"
#include "tests/support/sandbox.h"

using namespace std::chrono_literals;
using nlohmann::json;
using testing::perform;

namespace {

testing::TestServerOptions with_inbox() {
  return {[](app::Config& config) {
            config.otp.send_rate_limit = config.otp.verify_rate_limit = config.otp.phone_send_limit = 100000;
            config.otp.phone_failure_limit = 100000;
            config.otp.sms_driver = "inbox";  // live apps' codes land in the inbox, so tests can verify them
          },
          nullptr};
}

testing::Exchange put_policy(testing::Sandbox& sandbox, const testing::AppCredentials& app, const json& policy) {
  return sandbox.console("PUT", "/v1/applications/" + app.id + "/policy", policy);
}

// A breaker that trips after `min_sends` unverified sends to a 6-digit prefix.
json breaker(int min_sends, double min_conversion = 0.2) {
  return {{"prefixLength", 6}, {"minSends", min_sends}, {"minConversion", min_conversion}, {"windowSeconds", 3600},
          {"blockSeconds", 600}};
}

int otp_requests_of(testing::Sandbox& sandbox, const testing::AppCredentials& app) {
  const auto list = sandbox.console("GET", "/v1/otp?limit=100&appId=" + app.id);
  REQUIRE(list.status == 200);
  return static_cast<int>(list.body["data"].size());
}

std::vector<json> blocked_events(testing::Sandbox& sandbox) {
  const auto logs = sandbox.console("GET", "/v1/logs?limit=100");
  REQUIRE(logs.status == 200);
  std::vector<json> events;
  for (const auto& event : logs.body["data"]) {
    if (event["event"] == "otp.blocked") events.push_back(event);
  }
  return events;
}

// The code of a live app's request, read from the inbox as the console shows it.
std::string code_of(testing::Sandbox& sandbox, const testing::AppCredentials& app, const std::string& phone) {
  const auto inbox = sandbox.console("GET", "/v1/inbox?limit=1&appId=" + app.id + "&phone=" + core::url_encode(phone));
  REQUIRE(inbox.status == 200);
  REQUIRE(inbox.body["data"].size() == 1);
  std::smatch digits;
  const std::string text = inbox.body["data"][0]["message"];
  REQUIRE(std::regex_search(text, digits, std::regex("[0-9]{6}")));
  return digits.str();
}

std::string header(const testing::Exchange& exchange, const std::string& name) {
  const auto found = exchange.headers.find(name);
  return found == exchange.headers.end() ? "" : found->second;
}

double blocked_metric(testing::TestServer& server, const std::string& rule) {
  const std::string text = server.application().render_metrics();
  const std::string sample = "cobinar_otp_blocked_total{rule=\"" + rule + "\"} ";
  const auto at = text.find(sample);
  REQUIRE(at != std::string::npos);
  return std::stod(text.substr(at + sample.size()));
}

}  // namespace

TEST_CASE("the policy's abuse fields: defaults, a round trip, and every bad field at once") {
  testing::TestServer server(with_inbox());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("live", "Shop");

  const auto defaults = sandbox.console("GET", "/v1/applications/" + app.id + "/policy");
  REQUIRE(defaults.status == 200);
  const json& d = defaults.body["data"];
  CHECK(d["allowedCountries"].is_null());
  CHECK(d["blockedCountries"] == json::array());
  CHECK(d["allowedNumberTypes"].is_null());
  CHECK(d["blockedNumberTypes"] == json({"premium_rate", "shared_cost"}));
  CHECK(d["dailySendLimit"].is_null());
  CHECK(d["safeList"] == json::array());
  CHECK(d["conversionBreaker"] == json({{"enabled", true},
                                        {"prefixLength", 6},
                                        {"windowSeconds", 3600},
                                        {"minSends", 20},
                                        {"minConversion", 0.2},
                                        {"blockSeconds", 43200}}));

  const json policy = {{"allowedCountries", {"gb", "US"}},
                       {"blockedCountries", {"FR"}},
                       {"allowedNumberTypes", {"mobile"}},
                       {"blockedNumberTypes", json::array()},
                       {"dailySendLimit", 500},
                       {"safeList", {"+447400555123", "+4420"}},
                       {"conversionBreaker", {{"minSends", 50}, {"enabled", false}}}};
  const auto put = put_policy(sandbox, app, policy);
  REQUIRE_MESSAGE(put.status == 200, put.raw_body);
  const auto read = sandbox.console("GET", "/v1/applications/" + app.id + "/policy");
  const json& r = read.body["data"];
  CHECK(r["allowedCountries"] == json({"GB", "US"}));
  CHECK(r["blockedCountries"] == json({"FR"}));
  CHECK(r["allowedNumberTypes"] == json({"mobile"}));
  CHECK(r["blockedNumberTypes"] == json::array());
  CHECK(r["dailySendLimit"] == 500);
  CHECK(r["safeList"] == json({"+447400555123", "+4420"}));
  // Fields left out of conversionBreaker take their defaults.
  CHECK(r["conversionBreaker"]["minSends"] == 50);
  CHECK(r["conversionBreaker"]["enabled"] == false);
  CHECK(r["conversionBreaker"]["prefixLength"] == 6);
  CHECK(r["conversionBreaker"]["blockSeconds"] == 43200);

  struct Row {
    const char* name;
    json policy;
    const char* field;
  };
  const std::vector<Row> rows = {
      {"an empty allow-list (null allows all)", {{"allowedCountries", json::array()}}, "allowedCountries"},
      {"an empty type allow-list (null allows all)", {{"allowedNumberTypes", json::array()}}, "allowedNumberTypes"},
      {"a region that is not alpha-2", {{"allowedCountries", {"GBR"}}}, "allowedCountries"},
      {"a region without a numbering plan", {{"blockedCountries", {"XX"}}}, "blockedCountries"},
      {"countries not an array", {{"blockedCountries", "GB"}}, "blockedCountries"},
      {"an unknown number type", {{"blockedNumberTypes", {"premium"}}}, "blockedNumberTypes"},
      {"a number type of the wrong type", {{"allowedNumberTypes", {1}}}, "allowedNumberTypes"},
      {"a zero daily limit", {{"dailySendLimit", 0}}, "dailySendLimit"},
      {"a daily limit over 10^9", {{"dailySendLimit", 1000000001LL}}, "dailySendLimit"},
      {"a fractional daily limit", {{"dailySendLimit", 1.5}}, "dailySendLimit"},
      {"a safe-list entry without +", {{"safeList", {"447911"}}}, "safeList"},
      {"a safe-list entry with letters", {{"safeList", {"+44abc"}}}, "safeList"},
      {"a safe list over 1000", {{"safeList", json(std::vector<std::string>(1001, "+44"))}}, "safeList"},
      {"a breaker that is not an object", {{"conversionBreaker", true}}, "conversionBreaker"},
      {"a prefix of one digit", {{"conversionBreaker", {{"prefixLength", 1}}}}, "conversionBreaker.prefixLength"},
      {"a prefix of 16 digits", {{"conversionBreaker", {{"prefixLength", 16}}}}, "conversionBreaker.prefixLength"},
      {"a window under a minute", {{"conversionBreaker", {{"windowSeconds", 59}}}}, "conversionBreaker.windowSeconds"},
      {"a window over a day", {{"conversionBreaker", {{"windowSeconds", 86401}}}}, "conversionBreaker.windowSeconds"},
      {"no sends at all", {{"conversionBreaker", {{"minSends", 0}}}}, "conversionBreaker.minSends"},
      {"a conversion over 1", {{"conversionBreaker", {{"minConversion", 1.5}}}}, "conversionBreaker.minConversion"},
      {"a negative conversion", {{"conversionBreaker", {{"minConversion", -0.1}}}}, "conversionBreaker.minConversion"},
      {"a block under a minute", {{"conversionBreaker", {{"blockSeconds", 59}}}}, "conversionBreaker.blockSeconds"},
      {"a block over a week", {{"conversionBreaker", {{"blockSeconds", 604801}}}}, "conversionBreaker.blockSeconds"},
      {"enabled not a boolean", {{"conversionBreaker", {{"enabled", "yes"}}}}, "conversionBreaker.enabled"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    const auto refused = put_policy(sandbox, app, row.policy);
    CHECK(refused.status == 400);
    CHECK(refused.body["error"]["code"] == "INVALID_ARGUMENT");
    CHECK(refused.body["error"]["details"]["fields"].contains(row.field));
  }
  // All at once, and nothing changed.
  const auto many = put_policy(sandbox, app,
                               {{"allowedCountries", json::array()}, {"dailySendLimit", 0}, {"safeList", {"x"}}});
  CHECK(many.body["error"]["details"]["fields"].size() == 3);
  CHECK(sandbox.console("GET", "/v1/applications/" + app.id + "/policy").body["data"]["dailySendLimit"] == 500);
}

TEST_CASE("country and number-type rules: each refusal says which rule and leaves only its event") {
  testing::TestServer server(with_inbox());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("live", "Shop");

  struct Row {
    const char* name;
    json policy;
    const char* phone;
    int status;
    json details;  // null: accepted
  };
  const std::vector<Row> rows = {
      {"the defaults accept a mobile", json::object(), "+447400123456", 201, nullptr},
      {"the defaults refuse premium rate", json::object(), "+449098765432", 403,
       {{"rule", "number_type"}, {"numberType", "premium_rate"}}},
      {"the defaults refuse shared cost", json::object(), "+33810123456", 403,
       {{"rule", "number_type"}, {"numberType", "shared_cost"}}},
      {"a region not allowed", {{"allowedCountries", {"GB"}}}, "+12015550123", 403, {{"rule", "country"}, {"region", "US"}}},
      {"an allowed region", {{"allowedCountries", {"GB"}}}, "+447400123457", 201, nullptr},
      {"a blocked region", {{"blockedCountries", {"GB"}}}, "+447400123458", 403, {{"rule", "country"}, {"region", "GB"}}},
      {"allowed and blocked: blocked wins", {{"allowedCountries", {"GB", "US"}}, {"blockedCountries", {"GB"}}},
       "+447400123459", 403, {{"rule", "country"}, {"region", "GB"}}},
      {"a non-geographic number is not in any allow-list", {{"allowedCountries", {"GB"}}, {"numberValidation", "off"}},
       "+80012345678", 403, {{"rule", "country"}, {"region", nullptr}}},
      {"country comes before number type", {{"allowedCountries", {"US"}}}, "+449098765432", 403,
       {{"rule", "country"}, {"region", "GB"}}},
      {"a type not allowed", {{"allowedNumberTypes", {"mobile"}}}, "+442071838750", 403,
       {{"rule", "number_type"}, {"numberType", "fixed_line"}}},
      {"fixed_line_or_mobile matches an allowed mobile", {{"allowedNumberTypes", {"mobile"}}}, "+12015550124", 201, nullptr},
      {"fixed_line_or_mobile matches a blocked fixed_line", {{"blockedNumberTypes", {"fixed_line"}}}, "+12015550125", 403,
       {{"rule", "number_type"}, {"numberType", "fixed_line_or_mobile"}}},
      {"premium rate allowed once unblocked", {{"blockedNumberTypes", json::array()}}, "+449098765433", 201, nullptr},
      {"the safe list skips every rule", {{"blockedCountries", {"GB"}}, {"safeList", {"+447400"}}}, "+447400123460", 201,
       nullptr},
      {"a safe-listed number among blocked ones", {{"blockedCountries", {"GB"}}, {"safeList", {"+447400123461"}}},
       "+447400123462", 403, {{"rule", "country"}, {"region", "GB"}}},
      {"+999 numbers are exempt", {{"allowedCountries", {"US"}}}, "+999123456789", 201, nullptr},
  };
  int expected_requests = 0;
  std::size_t expected_events = 0;
  for (const auto& row : rows) {
    CAPTURE(row.name);
    REQUIRE(put_policy(sandbox, app, row.policy).status == 200);
    const auto sent = sandbox.send(app, row.phone);
    CHECK_MESSAGE(sent.status == row.status, sent.raw_body);
    if (row.details.is_null()) {
      ++expected_requests;
      continue;
    }
    ++expected_events;
    CHECK(sent.body["error"]["code"] == "SEND_BLOCKED");
    for (const auto& [name, value] : row.details.items()) CHECK(sent.body["error"]["details"][name] == value);
    const auto events = blocked_events(sandbox);
    REQUIRE(events.size() == expected_events);
    // The logs feed: appId and phone on the entry, the rest of the payload in detail.
    const json& event = events.front();
    CHECK(event["appId"] == app.id);
    CHECK(event["phone"].is_string());
    CHECK(event["requestId"].is_null());
    CHECK(event["detail"]["rule"] == row.details["rule"]);
    CHECK(event["detail"]["prefix"].is_null());
    CHECK(event["detail"].contains("region"));
  }
  // No OTP request, no inbox message for any refusal.
  CHECK(otp_requests_of(sandbox, app) == expected_requests);
  CHECK(blocked_metric(server, "country") == 6);
  CHECK(blocked_metric(server, "number_type") == 4);
  CHECK(blocked_metric(server, "conversion_breaker") == 0);
  CHECK(server.application().render_metrics().find("outcome=\"blocked\"} 10") != std::string::npos);
}

TEST_CASE("test applications are exempt from every abuse rule") {
  testing::TestServer server(with_inbox());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test", "Sandbox");
  REQUIRE(put_policy(sandbox, app, {{"allowedCountries", {"US"}}, {"dailySendLimit", 1}, {"conversionBreaker", breaker(1)}})
              .status == 200);
  for (int i = 0; i < 4; ++i) CHECK(sandbox.send(app, "+44740012345" + std::to_string(i)).status == 201);
  CHECK(sandbox.send(app, "+449098765432").status == 201);
  CHECK(blocked_events(sandbox).empty());
}

TEST_CASE("the conversion breaker blocks a prefix, lists it, lifts it, and reopens it") {
  testing::TestServer server(with_inbox());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("live", "Shop");
  REQUIRE(put_policy(sandbox, app, {{"conversionBreaker", breaker(5, 0.5)}}).status == 200);

  // Five unverified sends to +447400…, each to another number: all accepted.
  for (int i = 0; i < 5; ++i) CHECK(sandbox.send(app, "+4474001230" + std::to_string(10 + i)).status == 201);
  // The sixth is judged on the five before it: 0 of 5 verified, under half.
  const auto tripped = sandbox.send(app, "+447400123020");
  REQUIRE(tripped.status == 403);
  const json& details = tripped.body["error"]["details"];
  CHECK(tripped.body["error"]["code"] == "SEND_BLOCKED");
  CHECK(details["rule"] == "conversion_breaker");
  CHECK(details["prefix"] == "+447400");
  CHECK(details["sends"] == 5);
  CHECK(details["verified"] == 0);
  const std::string reopens = core::format_timestamp(server.clock().now() + 600s);
  CHECK(details["reopensAt"] == reopens);
  // Later sends to the prefix get the same block; other prefixes are untouched.
  server.clock().set(server.clock().now() + 1s);
  const auto again = sandbox.send(app, "+447400999999");
  CHECK(again.status == 403);
  CHECK(again.body["error"]["details"]["reopensAt"] == reopens);
  CHECK(sandbox.send(app, "+447402555123").status == 201);

  const auto events = blocked_events(sandbox);
  REQUIRE(events.size() == 2);
  CHECK(events[0]["detail"]["rule"] == "conversion_breaker");
  CHECK(events[0]["detail"]["prefix"] == "+447400");
  CHECK(events[0]["detail"]["region"] == "GB");
  CHECK(blocked_metric(server, "conversion_breaker") == 2);
  CHECK(otp_requests_of(sandbox, app) == 6);

  const auto blocks = sandbox.console("GET", "/v1/applications/" + app.id + "/blocks");
  REQUIRE(blocks.status == 200);
  REQUIRE(blocks.body["data"].is_array());
  REQUIRE(blocks.body["data"].size() == 1);
  const json& block = blocks.body["data"][0];
  CHECK(block["prefix"] == "+447400");
  CHECK(block["sends"] == 5);
  CHECK(block["verified"] == 0);
  CHECK(block["reopensAt"] == reopens);
  CHECK(block["blockedAt"].is_string());

  // Lift: 200, then the prefix is judged only on sends after the lift.
  CHECK(sandbox.console("DELETE", "/v1/applications/" + app.id + "/blocks/%2B447400").status == 200);
  CHECK(sandbox.console("GET", "/v1/applications/" + app.id + "/blocks").body["data"].empty());
  CHECK(sandbox.console("DELETE", "/v1/applications/" + app.id + "/blocks/%2B447400").status == 404);
  CHECK(sandbox.console("DELETE", "/v1/applications/" + app.id + "/blocks/%2B449999").status == 404);
  CHECK(sandbox.console("DELETE", "/v1/applications/" + app.id + "/blocks/not-a-prefix").status == 404);
  for (int i = 0; i < 5; ++i) CHECK(sandbox.send(app, "+4474001231" + std::to_string(10 + i)).status == 201);
  const auto second = sandbox.send(app, "+447400123120");
  REQUIRE(second.status == 403);
  CHECK(second.body["error"]["details"]["sends"] == 5);

  // After blockSeconds the prefix reopens and starts from nothing.
  server.clock().set(server.clock().now() + 601s);
  CHECK(sandbox.console("GET", "/v1/applications/" + app.id + "/blocks").body["data"].empty());
  for (int i = 0; i < 5; ++i) CHECK(sandbox.send(app, "+4474001232" + std::to_string(10 + i)).status == 201);
  CHECK(sandbox.send(app, "+447400123220").status == 403);
}

TEST_CASE("the breaker counts verifications, and sends leave its window") {
  testing::TestServer server(with_inbox());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("live", "Shop");
  REQUIRE(put_policy(sandbox, app, {{"conversionBreaker", {{"minSends", 4}, {"minConversion", 0.5}, {"windowSeconds", 60}}}})
              .status == 200);
  // Two of four verified: exactly half is not under half.
  for (int i = 0; i < 4; ++i) {
    const std::string phone = "+4474001234" + std::to_string(10 + i);
    const auto sent = sandbox.send(app, phone);
    REQUIRE(sent.status == 201);
    if (i < 2) {
      const auto verified = sandbox.verify(app, sent.body["data"]["requestId"], code_of(sandbox, app, phone));
      REQUIRE_MESSAGE(verified.status == 200, verified.raw_body);
    }
  }
  CHECK(sandbox.send(app, "+447400123420").status == 201);
  // Now 2 of 5: under half, blocked.
  CHECK(sandbox.send(app, "+447400123421").status == 403);
  CHECK(sandbox.console("DELETE", "/v1/applications/" + app.id + "/blocks/447400").status == 200);
  // Sends older than the window do not count.
  for (int i = 0; i < 4; ++i) CHECK(sandbox.send(app, "+4474001235" + std::to_string(10 + i)).status == 201);
  server.clock().set(server.clock().now() + 61s);
  CHECK(sandbox.send(app, "+447400123530").status == 201);
  // A disabled breaker blocks nothing.
  REQUIRE(put_policy(sandbox, app, {{"conversionBreaker", {{"enabled", false}, {"minSends", 1}}}}).status == 200);
  for (int i = 0; i < 3; ++i) CHECK(sandbox.send(app, "+4474001236" + std::to_string(10 + i)).status == 201);
}

TEST_CASE("the daily budget refuses with 429 until midnight UTC and spends no other quota") {
  testing::TestServer server({[](app::Config& config) {
                                config.otp.sms_driver = "inbox";
                                config.otp.send_rate_limit = 3;  // per application per minute
                                config.otp.phone_send_limit = 100;
                              },
                              nullptr});
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("live", "Shop");
  REQUIRE(put_policy(sandbox, app, {{"dailySendLimit", 2}, {"safeList", {"+447400555"}}}).status == 200);
  server.clock().set(*core::parse_timestamp("2026-12-07T23:00:00.000Z"));
  CHECK(sandbox.send(app, "+447400123456").status == 201);
  CHECK(sandbox.send(app, "+447400123457").status == 201);
  for (int i = 0; i < 5; ++i) {
    const auto over = sandbox.send(app, "+447400123458");
    REQUIRE(over.status == 429);
    CHECK(over.body["error"]["code"] == "RATE_LIMITED");
    CHECK(over.body["error"]["details"]["rule"] == "daily_budget");
    CHECK(over.body["error"]["details"]["limit"] == 2);
    CHECK(over.body["error"]["details"]["retryAfter"] == 3600);
    CHECK(header(over, "Retry-After") == "3600");
  }
  // The safe list is never refused, but it counts: the third per-minute send is its own.
  CHECK(sandbox.send(app, "+447400555123").status == 201);
  CHECK(otp_requests_of(sandbox, app) == 3);
  CHECK(blocked_events(sandbox).size() == 5);
  CHECK(blocked_metric(server, "daily_budget") == 5);
  // The next UTC day has a fresh budget.
  server.clock().set(*core::parse_timestamp("2026-12-08T00:00:01.000Z"));
  CHECK(sandbox.send(app, "+447400123459").status == 201);
}

TEST_CASE("a blocked send under an Idempotency-Key is not stored: the retry is judged again") {
  testing::TestServer server(with_inbox());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("live", "Shop");
  REQUIRE(put_policy(sandbox, app, {{"blockedCountries", {"GB"}}}).status == 200);
  auto headers = app.headers();
  headers.emplace("Idempotency-Key", "send-1");
  const std::string body = json{{"phone", "+447400123456"}}.dump();
  CHECK(perform(sandbox.client, "POST", "/v1/otp/send", body, "application/json", headers).status == 403);
  REQUIRE(put_policy(sandbox, app, json::object()).status == 200);
  const auto retried = perform(sandbox.client, "POST", "/v1/otp/send", body, "application/json", headers);
  CHECK(retried.status == 201);
  CHECK(header(retried, "Idempotent-Replayed").empty());
}

TEST_CASE("blocks, lift and simulate are walled per developer, and otp.blocked is subscribable") {
  testing::TestServer server(with_inbox());
  testing::Sandbox ann(server, "ann@example.com");
  testing::Sandbox bob(server, "bob@example.com");
  const auto app = ann.create_app("live", "Shop");
  const std::string base = "/v1/applications/" + app.id;
  CHECK(bob.console("GET", base + "/blocks").status == 404);
  CHECK(bob.console("DELETE", base + "/blocks/%2B447400").status == 404);
  CHECK(bob.console("POST", base + "/policy/simulate", {{"policy", json::object()}}).status == 404);
  CHECK(ann.console("GET", "/v1/applications/nope/blocks").status == 404);
  const auto hook = ann.console("POST", "/v1/webhooks",
                                {{"appId", app.id}, {"url", "https://hooks.example.com/x"}, {"events", {"otp.blocked"}}});
  CHECK_MESSAGE(hook.status == 201, hook.raw_body);
}

TEST_CASE("what-if: a pumping run is blocked within minSends, real users pass, and simulate says the same") {
  testing::TestServer server(with_inbox());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("live", "Shop");
  const std::string base = "/v1/applications/" + app.id;
  server.clock().set(*core::parse_timestamp("2026-12-07T10:00:00.000Z"));
  // First without the breaker: the history the operator has before switching it on.
  REQUIRE(put_policy(sandbox, app, {{"conversionBreaker", {{"enabled", false}}}}).status == 200);
  int normal_verified = 0;
  auto normal_user = [&](int i) {
    // Real users across many UK and US prefixes, each verifying.
    const std::string phone = (i % 2 ? "+44740" : "+1201") + std::to_string(2000000 + i * 7);
    const auto sent = sandbox.send(app, phone);
    REQUIRE_MESSAGE(sent.status == 201, std::string(phone + " " + sent.raw_body));
    REQUIRE(sandbox.verify(app, sent.body["data"]["requestId"], code_of(sandbox, app, phone)).status == 200);
    ++normal_verified;
  };
  auto pump = [&](int i) { return sandbox.send(app, "+23767" + std::to_string(1000000 + i)); };
  for (int i = 0; i < 300; ++i) {
    if (i % 10 == 0) normal_user(i / 10);
    REQUIRE(pump(i).status == 201);
    server.clock().set(server.clock().now() + 1s);
  }
  const json proposed = {{"conversionBreaker", {{"minSends", 20}, {"minConversion", 0.2}, {"prefixLength", 6}}}};
  const auto simulated = sandbox.console("POST", base + "/policy/simulate", {{"policy", proposed}, {"days", 1}});
  REQUIRE_MESSAGE(simulated.status == 200, simulated.raw_body);
  const json& figures = simulated.body["data"];
  CHECK(figures["sends"] == 300 + normal_verified);
  CHECK(figures["blocked"]["conversion_breaker"] == 280);
  CHECK(figures["blocked"]["country"] == 0);
  CHECK(figures["blocked"]["number_type"] == 0);
  CHECK(figures["blocked"]["daily_budget"] == 0);
  CHECK(figures["verifiedBlocked"] == 0);
  REQUIRE(figures["prefixesBlocked"].size() == 1);
  CHECK(figures["prefixesBlocked"][0]["prefix"] == "+237671");
  // A stricter rule would also have refused real users, and simulate says how many.
  const auto strict =
      sandbox.console("POST", base + "/policy/simulate", {{"policy", {{"allowedCountries", {"GB"}}}}, {"days", 1}});
  REQUIRE(strict.status == 200);
  CHECK(strict.body["data"]["blocked"]["country"] == 300 + normal_verified / 2);
  CHECK(strict.body["data"]["verifiedBlocked"] == normal_verified / 2);
  const auto budget = sandbox.console("POST", base + "/policy/simulate",
                                      {{"policy", {{"dailySendLimit", 100}, {"conversionBreaker", {{"enabled", false}}}}}});
  REQUIRE(budget.status == 200);
  CHECK(budget.body["data"]["blocked"]["daily_budget"] == 300 + normal_verified - 100);
  // Nothing was changed by simulating.
  CHECK(sandbox.console("GET", base + "/policy").body["data"]["conversionBreaker"]["enabled"] == false);
  CHECK(sandbox.console("GET", base + "/blocks").body["data"].empty());

  // Now live with that policy: the same run is blocked within minSends, real users untouched.
  REQUIRE(put_policy(sandbox, app, proposed).status == 200);
  server.clock().set(server.clock().now() + 2h);  // the earlier run leaves the window
  int accepted = 0;
  for (int i = 0; i < 300; ++i) {
    if (i % 10 == 0) normal_user(100 + i / 10);
    accepted += pump(5000 + i).status == 201 ? 1 : 0;
    server.clock().set(server.clock().now() + 1s);
  }
  CHECK(accepted == 20);
  const auto blocks = sandbox.console("GET", base + "/blocks");
  REQUIRE(blocks.body["data"].size() == 1);
  CHECK(blocks.body["data"][0]["prefix"] == "+237671");

  // Bad input of simulate (a token of the moved clock).
  const auto auth = testing::bearer(server.application().runtime().accounts().issue_token(sandbox.email).value());
  testing::run_scenarios(
      server, {
                  {"no policy", "POST", base + "/policy/simulate", "{}", "application/json", auth, 400, "INVALID_ARGUMENT"},
                  {"days 0", "POST", base + "/policy/simulate", R"({"policy":{},"days":0})", "application/json", auth, 400, "INVALID_ARGUMENT"},
                  {"days 91", "POST", base + "/policy/simulate", R"({"policy":{},"days":91})", "application/json", auth, 400, "INVALID_ARGUMENT"},
                  {"a bad proposed field", "POST", base + "/policy/simulate", R"({"policy":{"dailySendLimit":0}})", "application/json", auth, 400, "INVALID_ARGUMENT"},
              });
  const auto bad = sandbox.console("POST", base + "/policy/simulate", {{"policy", {{"dailySendLimit", 0}}}});
  CHECK(bad.body["error"]["details"]["fields"].contains("policy.dailySendLimit"));
}
