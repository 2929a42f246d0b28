// Logs and analytics with an injected clock: events placed on exact UTC days across month
// and year boundaries and the 90-day edge, every number checked.
#include <doctest/doctest.h>

#include <set>

#include "tests/support/sandbox.h"

using namespace std::chrono_literals;
using nlohmann::json;

namespace {

core::TimePoint at(const char* timestamp) { return *core::parse_timestamp(timestamp); }

std::string wrong(const std::string& code) { return code == "000000" ? "111111" : "000000"; }

json bucket(const json& buckets, const std::string& date) {
  for (const auto& b : buckets) {
    if (b["date"] == date) return b;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("summary and time series count each event on its UTC day") {
  testing::TestServer server(testing::generous_limits());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto a = sandbox.create_app("test", "A"), b = sandbox.create_app("test", "B");
  auto& clock = server.clock();

  clock.set(at("2025-11-17T23:59:59.999Z"));  // just outside the 90-day window
  sandbox.send(a, "+999100000001");
  clock.set(at("2025-11-18T00:00:00.000Z"));  // the first day of the 90-day window
  sandbox.send(a, "+999100000002");
  clock.set(at("2025-12-31T23:59:59.999Z"));  // a year boundary between send and verify
  auto s3 = sandbox.send(a, "+999100000003");
  clock.set(at("2026-01-01T00:00:00.000Z"));
  REQUIRE(sandbox.verify(a, s3.body["data"]["requestId"], s3.body["data"]["testCode"]).status == 200);
  clock.set(at("2026-01-31T23:59:00.000Z"));  // a month boundary
  auto s4 = sandbox.send(b, "+999100000004");
  REQUIRE(sandbox.verify(b, s4.body["data"]["requestId"], wrong(s4.body["data"]["testCode"])).status == 400);
  clock.set(at("2026-02-01T00:00:30.000Z"));
  REQUIRE(sandbox.verify(b, s4.body["data"]["requestId"], s4.body["data"]["testCode"]).status == 200);
  clock.set(at("2026-02-15T12:00:00.000Z"));  // today
  auto s5 = sandbox.send(a, "+999100000005");
  REQUIRE(sandbox.verify(a, s5.body["data"]["requestId"], s5.body["data"]["testCode"]).status == 200);
  sandbox.send(b, "+999100000006");
  sandbox.send(b, "+999100000006");  // supersedes the one before: an otp.failed today

  CHECK(sandbox.console("GET", "/v1/analytics/summary").body["data"] ==
        json{{"applications", 2}, {"otpRequests", 7}, {"otpVerified", 3}, {"successRate", 43}, {"activeUsers", 2}});
  CHECK(sandbox.console("GET", "/v1/analytics/summary?appId=" + a.id).body["data"] ==
        json{{"applications", 1}, {"otpRequests", 4}, {"otpVerified", 2}, {"successRate", 50}, {"activeUsers", 1}});
  CHECK(sandbox.console("GET", "/v1/analytics/summary?appId=" + b.id).body["data"] ==
        json{{"applications", 1}, {"otpRequests", 3}, {"otpVerified", 1}, {"successRate", 33}, {"activeUsers", 1}});

  const json ninety = sandbox.console("GET", "/v1/analytics/timeseries?range=90d").body["data"];
  CHECK(ninety["range"] == "90d");
  const json& buckets = ninety["buckets"];
  REQUIRE(buckets.size() == 90);
  CHECK(buckets.front()["date"] == "2025-11-18");
  CHECK(buckets.back()["date"] == "2026-02-15");
  CHECK(buckets.front() == json{{"date", "2025-11-18"}, {"sent", 1}, {"verified", 0}, {"failed", 0}});
  CHECK(bucket(buckets, "2025-12-31") == json{{"date", "2025-12-31"}, {"sent", 1}, {"verified", 0}, {"failed", 0}});
  CHECK(bucket(buckets, "2026-01-01") == json{{"date", "2026-01-01"}, {"sent", 0}, {"verified", 1}, {"failed", 0}});
  CHECK(bucket(buckets, "2026-01-31") == json{{"date", "2026-01-31"}, {"sent", 1}, {"verified", 0}, {"failed", 1}});
  CHECK(bucket(buckets, "2026-02-01") == json{{"date", "2026-02-01"}, {"sent", 0}, {"verified", 1}, {"failed", 0}});
  CHECK(buckets.back() == json{{"date", "2026-02-15"}, {"sent", 3}, {"verified", 1}, {"failed", 1}});
  long long sent = 0, nonzero = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    sent += buckets[i]["sent"].get<long long>();
    if (buckets[i]["sent"] != 0 || buckets[i]["verified"] != 0 || buckets[i]["failed"] != 0) ++nonzero;
    if (i > 0) CHECK(buckets[i - 1]["date"] < buckets[i]["date"]);  // oldest first, one per day
  }
  CHECK(sent == 6);
  CHECK(nonzero == 6);

  const json week = sandbox.console("GET", "/v1/analytics/timeseries?range=7d").body["data"]["buckets"];
  REQUIRE(week.size() == 7);
  CHECK(week.front()["date"] == "2026-02-09");
  CHECK(week.back() == json{{"date", "2026-02-15"}, {"sent", 3}, {"verified", 1}, {"failed", 1}});
  const json month = sandbox.console("GET", "/v1/analytics/timeseries").body["data"];
  CHECK(month["range"] == "30d");
  REQUIRE(month["buckets"].size() == 30);
  CHECK(month["buckets"].front()["date"] == "2026-01-17");
  const json b_month = sandbox.console("GET", "/v1/analytics/timeseries?range=30d&appId=" + b.id).body["data"]["buckets"];
  CHECK(bucket(b_month, "2026-01-31") == json{{"date", "2026-01-31"}, {"sent", 1}, {"verified", 0}, {"failed", 1}});
  CHECK(bucket(b_month, "2026-02-01") == json{{"date", "2026-02-01"}, {"sent", 0}, {"verified", 1}, {"failed", 0}});
  CHECK(b_month.back() == json{{"date", "2026-02-15"}, {"sent", 2}, {"verified", 0}, {"failed", 1}});

  for (const char* bad : {"1y", "7", "", "90D"}) {
    CAPTURE(bad);
    CHECK(sandbox.console("GET", std::string("/v1/analytics/timeseries?range=") + bad).status == 400);
  }

  // Deleting an application keeps its history in the numbers.
  CHECK(sandbox.console("DELETE", "/v1/applications/" + b.id).status == 200);
  CHECK(sandbox.console("GET", "/v1/analytics/summary").body["data"] ==
        json{{"applications", 1}, {"otpRequests", 7}, {"otpVerified", 3}, {"successRate", 43}, {"activeUsers", 2}});
}

TEST_CASE("activeUsers counts each phone once, from its latest verification, over exactly 30 days") {
  testing::TestServer server(testing::generous_limits());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto a = sandbox.create_app("test", "A"), b = sandbox.create_app("test", "B");
  auto& clock = server.clock();
  auto verified = [&](const testing::AppCredentials& app, const std::string& phone) {
    auto sent = sandbox.send(app, phone);
    REQUIRE(sandbox.verify(app, sent.body["data"]["requestId"], sent.body["data"]["testCode"]).status == 200);
  };
  auto active = [&](const std::string& query) {
    return sandbox.console("GET", "/v1/analytics/summary" + query).body["data"]["activeUsers"].get<long long>();
  };
  const std::string only_a = "?appId=" + a.id, only_b = "?appId=" + b.id;
  clock.set(at("2026-03-01T10:00:00.000Z"));
  verified(a, "+999100000001");
  verified(a, "+999100000001");  // the same phone twice on one day
  clock.set(at("2026-03-05T08:00:00.000Z"));
  verified(a, "+999100000001");  // moves from March 1 to March 5
  verified(b, "+999100000002");
  clock.set(at("2026-03-05T09:00:00.000Z"));
  verified(b, "+999100000001");
  CHECK(active("") == 2);
  CHECK(active(only_a) == 1);
  CHECK(active(only_b) == 2);

  // 30 days later to the millisecond: the window starts at 2026-03-05T08:00:00.000Z, inclusive.
  clock.set(at("2026-04-04T08:00:00.000Z"));
  CHECK(active("") == 2);
  CHECK(active(only_a) == 1);
  CHECK(active(only_b) == 2);
  clock.advance(1ms);  // +999100000002 (08:00 through B) and +1 through A leave the window
  CHECK(active("") == 1);
  CHECK(active(only_a) == 0);
  CHECK(active(only_b) == 1);
  clock.set(at("2026-04-04T09:00:00.001Z"));
  CHECK(active("") == 0);
  CHECK(active(only_b) == 0);
  verified(a, "+999100000002");  // back after 30 days: counted once again
  CHECK(active("") == 1);
  CHECK(active(only_a) == 1);
  CHECK(active(only_b) == 0);
}

TEST_CASE("an empty account has zeros, and a day rolls over at UTC midnight") {
  testing::TestServer server(testing::generous_limits());
  testing::Sandbox sandbox(server, "ann@example.com");
  CHECK(sandbox.console("GET", "/v1/analytics/summary").body["data"] ==
        json{{"applications", 0}, {"otpRequests", 0}, {"otpVerified", 0}, {"successRate", 0}, {"activeUsers", 0}});
  const auto app = sandbox.create_app();
  server.clock().set(at("2026-03-31T23:59:59.999Z"));
  sandbox.send(app, "+999100000001");
  CHECK(sandbox.console("GET", "/v1/analytics/timeseries?range=7d").body["data"]["buckets"].back() ==
        json{{"date", "2026-03-31"}, {"sent", 1}, {"verified", 0}, {"failed", 0}});
  server.clock().advance(1ms);
  const json rolled = sandbox.console("GET", "/v1/analytics/timeseries?range=7d").body["data"]["buckets"];
  CHECK(rolled.back() == json{{"date", "2026-04-01"}, {"sent", 0}, {"verified", 0}, {"failed", 0}});
  CHECK(rolled[5]["date"] == "2026-03-31");
  CHECK(rolled[5]["sent"] == 1);
}

TEST_CASE("logs: every event newest first, with details and no code; filters and tenant walls") {
  testing::TestServer server(testing::generous_limits());
  testing::Sandbox ann(server, "ann@example.com");
  testing::Sandbox bob(server, "bob@example.com");
  const auto a = ann.create_app(), other = ann.create_app();
  const auto bob_app = bob.create_app();
  const auto sent = ann.send(a, "+999 482 918 102");
  const std::string id = sent.body["data"]["requestId"], code = sent.body["data"]["testCode"];
  ann.verify(a, id, wrong(code));
  ann.verify(a, id, code);
  ann.send(other, "+999 100 000 001");
  bob.send(bob_app, "+999 100 000 002");

  const auto feed = ann.console("GET", "/v1/logs");
  REQUIRE(feed.status == 200);
  const json& entries = feed.body["data"];
  std::vector<std::string> events;
  for (const auto& e : entries) events.push_back(e["event"]);
  CHECK(events == std::vector<std::string>{"otp.created", "identity.created", "otp.verified", "otp.failed", "otp.created"});
  CHECK(feed.raw_body.find(code) == std::string::npos);
  const json& failed = entries[3];
  CHECK(failed["appId"] == a.id);
  CHECK(failed["requestId"] == id);
  CHECK(failed["phone"] == "+999 482 918 102");
  CHECK(failed["status"] == "pending");
  CHECK(failed["detail"] == json{{"reason", "invalid_code"}, {"attemptsRemaining", 4}});
  CHECK(entries[2]["status"] == "verified");
  CHECK(entries[2]["detail"]["verifiedAt"] == "2026-07-03T14:22:10.000Z");
  CHECK(failed["createdAt"] == "2026-07-03T14:22:10.000Z");

  CHECK(ann.console("GET", "/v1/logs?appId=" + other.id).body["data"].size() == 1);
  CHECK(ann.console("GET", "/v1/logs?appId=" + bob_app.id).status == 404);
  CHECK(bob.console("GET", "/v1/logs").body["data"].size() == 1);
  CHECK(ann.console("GET", "/v1/logs?limit=201").status == 200);
  CHECK(ann.console("GET", "/v1/logs?limit=0").status == 400);
  CHECK(ann.console("GET", "/v1/logs?cursor=abc").status == 400);
}

TEST_CASE("logs pagination never skips or repeats while new events arrive") {
  testing::TestServer server(testing::generous_limits());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app();
  for (int i = 0; i < 10; ++i) REQUIRE(sandbox.send(app, "+999 100 000 0" + std::to_string(10 + i)).status == 201);
  std::vector<std::string> before;
  const auto all = sandbox.console("GET", "/v1/logs?limit=200");
  INFO(all.raw_body);
  for (const auto& e : all.body["data"]) before.push_back(e["id"]);
  REQUIRE(before.size() == 10);

  std::vector<std::string> seen;
  std::string path = "/v1/logs?limit=3";
  for (int page = 0; page < 10; ++page) {
    const auto response = sandbox.console("GET", path);
    for (const auto& e : response.body["data"]) seen.push_back(e["id"]);
    // New events arrive between pages (from another thread, as from real traffic).
    std::thread writer([&] {
      auto client = server.client();
      client.Post("/v1/otp/send", app.headers(), R"({"phone":"+999 200 000 000"})", "application/json");
    });
    writer.join();
    if (response.body["nextCursor"].is_null()) break;
    path = "/v1/logs?limit=3&cursor=" + response.body["nextCursor"].get<std::string>();
  }
  CHECK(seen == before);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == seen.size());
}
