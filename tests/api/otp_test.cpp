// The OTP engine through the real server: every outcome of send and verify, limits, the
// phone lock, concurrency with real threads, reads, inbox, identities and events.
#include <SQLiteCpp/Statement.h>
#include <doctest/doctest.h>

#include <atomic>
#include <regex>
#include <thread>

#include "tests/support/sandbox.h"
#include "storage/sqlite/connection.h"

using namespace std::chrono_literals;
using nlohmann::json;
using testing::perform;

namespace {

const std::string kVirtual = "+999 482 918 102";

testing::TestServerOptions limits(int send, int verify, int phone_send, int failures) {
  return {[=](app::Config& config) {
            config.otp.send_rate_limit = send;
            config.otp.verify_rate_limit = verify;
            config.otp.phone_send_limit = phone_send;
            config.otp.phone_failure_limit = failures;
          },
          nullptr};
}

testing::TestServerOptions generous() { return limits(1000, 1000, 1000, 1000); }

std::string wrong_code(const std::string& right) { return right == "000000" ? "111111" : "000000"; }

}  // namespace

TEST_CASE("sandbox flow: send to a virtual number, read the inbox, verify, identity") {
  testing::TestServer server;
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test", "Demo");

  const auto sent = sandbox.send(app, "+999 (482) 918-102");
  REQUIRE(sent.status == 201);
  const json& data = sent.body["data"];
  CHECK(data["phone"] == kVirtual);
  CHECK(data["status"] == "pending");
  CHECK(data["expiresAt"] == "2026-07-03T14:27:10.000Z");
  const std::string code = data["testCode"], request_id = data["requestId"];
  CHECK(std::regex_match(code, std::regex("[0-9]{6}")));

  const auto inbox = sandbox.console("GET", "/v1/inbox");
  REQUIRE(inbox.body["data"].size() == 1);
  CHECK(inbox.body["data"][0]["message"] == code + " is your Demo verification code. It expires in 5 minutes.");
  CHECK(inbox.body["data"][0]["phone"] == kVirtual);
  CHECK(inbox.body["data"][0]["requestId"] == request_id);
  CHECK(inbox.body["data"][0]["appId"] == app.id);

  const auto wrong = sandbox.verify(app, request_id, wrong_code(code));
  CHECK(wrong.status == 400);
  CHECK(wrong.body["error"]["code"] == "INVALID_CODE");
  CHECK(wrong.body["error"]["details"]["attemptsRemaining"] == 4);

  server.clock().advance(3s);
  const auto right = sandbox.verify(app, request_id, code);
  REQUIRE(right.status == 200);
  json answered = right.body["data"];
  REQUIRE(answered.contains("receipt"));  // its claims: tests/api/receipts_test.cpp
  CHECK(answered["receiptExpiresAt"] == "2026-07-03T14:32:13.000Z");
  answered.erase("receipt");
  answered.erase("receiptExpiresAt");
  CHECK(answered == json{{"requestId", request_id}, {"status", "verified"}, {"phone", kVirtual},
                         {"verifiedAt", "2026-07-03T14:22:13.000Z"}});
  const auto again = sandbox.verify(app, request_id, code);
  CHECK(again.status == 409);
  CHECK(again.body["error"]["code"] == "OTP_ALREADY_VERIFIED");

  CHECK(sandbox.console("GET", "/v1/inbox").body["data"][0]["message"] == "[expired]");
  const auto read = sandbox.console("GET", "/v1/otp/" + request_id);
  CHECK(read.body["data"] == json{{"id", request_id}, {"requestId", request_id}, {"appId", app.id}, {"phone", kVirtual},
                                  {"status", "verified"}, {"attempts", 1}, {"deliveryStatus", "sent"},
                                  {"createdAt", "2026-07-03T14:22:10.000Z"}, {"expiresAt", "2026-07-03T14:27:10.000Z"},
                                  {"verifiedAt", "2026-07-03T14:22:13.000Z"}, {"region", nullptr},
                                  {"numberType", "virtual"}});
  CHECK(read.raw_body.find(code) == std::string::npos);

  const auto identity = sandbox.console("GET", "/v1/users/%2B999%20482%20918%20102");
  CHECK(identity.body["data"] == json{{"phoneNumber", kVirtual}, {"createdAt", "2026-07-03T14:22:13.000Z"},
                                      {"lastVerifiedAt", "2026-07-03T14:22:13.000Z"}, {"verificationCount", 1},
                                      {"region", nullptr}, {"numberType", "virtual"},
                                      {"lastApplicationId", app.id}});

  // A second verification through another app updates the identity.
  const auto other = sandbox.create_app("test", "Other");
  server.clock().advance(1min);
  const auto second = sandbox.send(other, kVirtual);
  REQUIRE(sandbox.verify(other, second.body["data"]["requestId"], second.body["data"]["testCode"]).status == 200);
  const auto updated = perform(sandbox.client, "GET", "/v1/users/%2B999482918102", "", "", {{"x-api-key", app.api_key}});
  CHECK(updated.status == 200);
  CHECK(updated.body["data"]["verificationCount"] == 2);
  CHECK(updated.body["data"]["lastApplicationId"] == other.id);
  CHECK(updated.body["data"]["createdAt"] == "2026-07-03T14:22:13.000Z");
  CHECK(sandbox.console("GET", "/v1/users").body["data"].size() == 1);
}

TEST_CASE("send validates the phone number and needs all three credentials") {
  auto options = generous();
  options.configure = [limits = options.configure](app::Config& config) {
    limits(config);
    config.otp.sms_driver = "inbox";  // a live app's real number needs a driver
  };
  testing::TestServer server(options);
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("live");
  for (const char* bad : {"garbage", "+12345", "+1234567890123456", "+1 415 CALL NOW", "4155552671", "+0123456789", ""}) {
    CAPTURE(bad);
    const auto refused = sandbox.send(app, bad);
    CHECK(refused.status == 400);
    CHECK(refused.body["error"]["code"] == "INVALID_ARGUMENT");
    CHECK(refused.body["error"]["details"]["fields"].contains("phone"));
  }
  CHECK(perform(sandbox.client, "POST", "/v1/otp/send", R"({"phone":5})", "application/json", app.headers()).status == 400);
  CHECK(perform(sandbox.client, "POST", "/v1/otp/send", "{", "application/json", app.headers()).status == 400);

  const auto live = sandbox.send(app, "+1 (415) 555-2671");
  CHECK(live.status == 201);
  CHECK(live.body["data"]["phone"] == "+1 415-555-2671");
  CHECK_FALSE(live.body["data"].contains("testCode"));

  auto headers = app.headers();
  headers.erase("x-client-secret");
  CHECK(perform(sandbox.client, "POST", "/v1/otp/send", R"({"phone":"+999482918102"})", "application/json", headers).status == 401);
  auto wrong = app.headers();
  wrong.find("x-client-secret")->second = "ph_live_secret_" + std::string(48, 'a');
  CHECK(perform(sandbox.client, "POST", "/v1/otp/send", R"({"phone":"+999482918102"})", "application/json", wrong).status == 401);
  sandbox.console("PATCH", "/v1/applications/" + app.id, {{"status", "disabled"}});
  const auto disabled = sandbox.send(app, kVirtual);
  CHECK(disabled.status == 403);
  CHECK(disabled.body["error"]["code"] == "FORBIDDEN");
}

TEST_CASE("verify: malformed codes are not attempts; the 5th wrong code fails the request") {
  testing::TestServer server(generous());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app();
  const auto sent = sandbox.send(app, kVirtual);
  const std::string id = sent.body["data"]["requestId"], code = sent.body["data"]["testCode"];

  for (const json& bad : {json("12345"), json("1234567"), json("abcdef"), json(123456), json("12 456"), json(nullptr)}) {
    CAPTURE(bad.dump());
    const auto refused = sandbox.verify(app, id, bad);
    CHECK(refused.status == 400);
    CHECK(refused.body["error"]["code"] == "INVALID_ARGUMENT");
  }
  CHECK(sandbox.console("GET", "/v1/otp/" + id).body["data"]["attempts"] == 0);

  for (int remaining = 4; remaining >= 0; --remaining) {
    const auto wrong = sandbox.verify(app, id, wrong_code(code));
    CHECK(wrong.status == 400);
    CHECK(wrong.body["error"]["code"] == "INVALID_CODE");
    CHECK(wrong.body["error"]["details"]["attemptsRemaining"] == remaining);
  }
  const auto after = sandbox.verify(app, id, code);
  CHECK(after.status == 410);
  CHECK(after.body["error"]["code"] == "OTP_FAILED");
  const auto read = sandbox.console("GET", "/v1/otp/" + id).body["data"];
  CHECK(read["status"] == "failed");
  CHECK(read["attempts"] == 5);
  CHECK(sandbox.console("GET", "/v1/inbox").body["data"][0]["message"] == "[expired]");
}

TEST_CASE("verify: past the TTL the request expires; unknown or another app's request is 404") {
  testing::TestServer server(generous());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app(), other = sandbox.create_app();
  const auto sent = sandbox.send(app, kVirtual);
  const std::string id = sent.body["data"]["requestId"], code = sent.body["data"]["testCode"];

  CHECK(sandbox.verify(other, id, code).status == 404);
  CHECK(sandbox.verify(app, "01900000-0000-7000-8000-000000000000", code).status == 404);

  server.clock().advance(5min);
  // Before any verify, reads already show it as expired.
  CHECK(sandbox.console("GET", "/v1/otp/" + id).body["data"]["status"] == "expired");
  CHECK(sandbox.console("GET", "/v1/otp?status=expired").body["data"].size() == 1);
  CHECK(sandbox.console("GET", "/v1/otp?status=pending").body["data"].empty());
  CHECK(sandbox.console("GET", "/v1/inbox").body["data"][0]["message"] == "[expired]");
  const auto expired = sandbox.verify(app, id, code);
  CHECK(expired.status == 410);
  CHECK(expired.body["error"]["code"] == "OTP_EXPIRED");
  CHECK(sandbox.verify(app, id, code).body["error"]["code"] == "OTP_EXPIRED");
}

TEST_CASE("a new send supersedes the pending request for the same app and phone") {
  testing::TestServer server(generous());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app(), other = sandbox.create_app();
  const auto first = sandbox.send(app, kVirtual);
  const auto unrelated = sandbox.send(other, kVirtual);
  const auto second = sandbox.send(app, kVirtual);
  const auto superseded = sandbox.verify(app, first.body["data"]["requestId"], first.body["data"]["testCode"]);
  CHECK(superseded.status == 410);
  CHECK(superseded.body["error"]["code"] == "OTP_FAILED");
  CHECK(sandbox.verify(app, second.body["data"]["requestId"], second.body["data"]["testCode"]).status == 200);
  // Another app's pending request is untouched.
  CHECK(sandbox.verify(other, unrelated.body["data"]["requestId"], unrelated.body["data"]["testCode"]).status == 200);
}

TEST_CASE("rate limits per application and per phone, with Retry-After, never leaking between apps") {
  testing::TestServer server(limits(3, 2, 2, 1000));
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app(), other = sandbox.create_app();

  CHECK(sandbox.send(app, "+999100000001").status == 201);
  CHECK(sandbox.send(app, "+999100000001").status == 201);
  const auto per_phone = sandbox.send(app, "+999100000001");
  CHECK(per_phone.status == 429);
  CHECK(per_phone.body["error"]["code"] == "RATE_LIMITED");
  CHECK(per_phone.headers.find("Retry-After")->second == "600");
  CHECK(sandbox.send(app, "+999100000002").status == 201);  // third send of this app this minute
  const auto per_app = sandbox.send(app, "+999100000003");
  CHECK(per_app.status == 429);
  CHECK(per_app.headers.find("Retry-After")->second == "60");
  CHECK(per_app.body["error"]["details"]["retryAfter"] == 60);
  CHECK(sandbox.send(other, "+999100000001").status == 201);  // other app: own limits

  const std::string id = sandbox.send(other, "+999100000009").body["data"]["requestId"];
  CHECK(sandbox.verify(other, id, "000000").status != 429);
  CHECK(sandbox.verify(other, id, "000000").status != 429);
  CHECK(sandbox.verify(other, id, "000000").status == 429);
  server.clock().advance(61s);
  CHECK(sandbox.send(app, "+999100000003").status == 201);
  CHECK(sandbox.verify(other, id, "000000").status == 400);
}

TEST_CASE("wrong codes are counted per app and phone across resends and lock the phone") {
  testing::TestServer server(limits(1000, 1000, 1000, 7));
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app(), other = sandbox.create_app();
  int wrong = 0;
  // Resending never resets the count: 3 + 3 wrong codes on two requests, then the 7th locks.
  for (int round = 0; round < 2; ++round) {
    const auto sent = sandbox.send(app, kVirtual);
    for (int i = 0; i < 3; ++i, ++wrong) {
      CHECK(sandbox.verify(app, sent.body["data"]["requestId"], wrong_code(sent.body["data"]["testCode"])).status == 400);
    }
  }
  const auto third = sandbox.send(app, kVirtual);
  const std::string id = third.body["data"]["requestId"], code = third.body["data"]["testCode"];
  CHECK(sandbox.verify(app, id, wrong_code(code)).status == 400);  // 7th: locks
  const auto locked_verify = sandbox.verify(app, id, code);
  CHECK(locked_verify.status == 429);
  CHECK(locked_verify.headers.find("Retry-After")->second == "3600");
  CHECK(sandbox.send(app, kVirtual).status == 429);
  // Other phones and other apps are not affected.
  CHECK(sandbox.send(app, "+999100000001").status == 201);
  CHECK(sandbox.send(other, kVirtual).status == 201);

  server.clock().advance(1h);
  const auto fresh = sandbox.send(app, kVirtual);
  REQUIRE(fresh.status == 201);
  CHECK(sandbox.verify(app, fresh.body["data"]["requestId"], fresh.body["data"]["testCode"]).status == 200);
}

TEST_CASE("a success resets the consecutive-failure count") {
  testing::TestServer server(limits(1000, 1000, 1000, 4));
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app();
  for (int round = 0; round < 3; ++round) {
    const auto sent = sandbox.send(app, kVirtual);
    const std::string id = sent.body["data"]["requestId"], code = sent.body["data"]["testCode"];
    for (int i = 0; i < 3; ++i) CHECK(sandbox.verify(app, id, wrong_code(code)).status == 400);
    CHECK(sandbox.verify(app, id, code).status == 200);
  }
}

TEST_CASE("parallel verifies: the right code succeeds exactly once; wrong codes count at most 5") {
  testing::TestServer server({[](app::Config& config) {
                                config.otp.verify_rate_limit = 1000;
                                config.otp.phone_failure_limit = 1000;
                                config.http.threads = 16;
                              },
                              nullptr});
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app();
  constexpr int kThreads = 16;

  auto race = [&](const std::string& id, const std::string& code) {
    std::vector<int> statuses(kThreads);
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto client = server.client();
        while (!go) std::this_thread::yield();
        // No REQUIRE off the main thread: a missing answer is recorded as status 0.
        auto result = client.Post("/v1/otp/verify", app.headers(), json{{"requestId", id}, {"code", code}}.dump(),
                                  "application/json");
        statuses[t] = result ? result->status : 0;
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    return statuses;
  };

  const auto sent = sandbox.send(app, kVirtual);
  const auto right = race(sent.body["data"]["requestId"], sent.body["data"]["testCode"]);
  CHECK(std::count(right.begin(), right.end(), 200) == 1);
  CHECK(std::count(right.begin(), right.end(), 409) == kThreads - 1);

  const auto again = sandbox.send(app, "+999100000001");
  const std::string id = again.body["data"]["requestId"];
  const auto wrong = race(id, wrong_code(again.body["data"]["testCode"]));
  CHECK(std::count(wrong.begin(), wrong.end(), 400) == 5);
  CHECK(std::count(wrong.begin(), wrong.end(), 410) == kThreads - 5);
  CHECK(sandbox.console("GET", "/v1/otp/" + id).body["data"]["attempts"] == 5);
}

TEST_CASE("the code is stored only as an HMAC, erased when the request leaves pending") {
  testing::TestServer server(generous());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app();
  const auto sent = sandbox.send(app, kVirtual);
  const std::string id = sent.body["data"]["requestId"], code = sent.body["data"]["testCode"];
  auto& db = server.application().database();
  auto hash_of = [&] {
    return db.read([&](storage::Connection& c) {
      storage::Prepared q(c, "SELECT code_hash FROM otp_requests WHERE id = ?");
      q->bind(1, id);
      q->executeStep();
      return q->getColumn(0).isNull() ? std::string() : q->getColumn(0).getBlob();
    });
  };
  CHECK(hash_of().size() == 32);
  const std::string bytes = testing::stored_bytes(server);
  CHECK(bytes.find(code + " is your") == std::string::npos);
  CHECK(bytes.find("verification code") == std::string::npos);
  REQUIRE(sandbox.verify(app, id, code).status == 200);
  CHECK(hash_of().empty());
}

TEST_CASE("every state change is an event in the outbox, without the code") {
  testing::TestServer server(generous());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app();
  const auto first = sandbox.send(app, kVirtual);
  const auto second = sandbox.send(app, kVirtual);  // supersedes the first
  const std::string id = second.body["data"]["requestId"], code = second.body["data"]["testCode"];
  sandbox.verify(app, id, wrong_code(code));
  sandbox.verify(app, id, code);
  const auto third = sandbox.send(app, kVirtual);
  server.clock().advance(6min);
  sandbox.verify(app, third.body["data"]["requestId"], third.body["data"]["testCode"]);

  const auto events = server.application().database().read([](storage::Connection& c) {
    std::vector<json> out;
    storage::Prepared q(c, "SELECT type, payload FROM events ORDER BY seq");
    while (q->executeStep()) {
      json payload = json::parse(q->getColumn(1).getString());
      payload["type"] = q->getColumn(0).getString();
      out.push_back(payload);
    }
    return out;
  });
  std::vector<std::string> types;
  for (const auto& e : events) types.push_back(e["type"]);
  CHECK(types == std::vector<std::string>{"otp.created", "otp.failed", "otp.created", "otp.failed", "otp.verified",
                                          "identity.created", "otp.created", "otp.expired"});
  CHECK(events[1]["reason"] == "superseded");
  CHECK(events[3]["reason"] == "invalid_code");
  CHECK(events[3]["attemptsRemaining"] == 4);
  CHECK(events[4]["verifiedAt"].is_string());
  CHECK(events[7]["expiredAt"] == third.body["data"]["expiresAt"]);
  for (const auto& e : events) {
    CHECK(e["appId"] == app.id);
    CHECK(e["phone"] == kVirtual);
    for (const auto& c : {first.body["data"]["testCode"], second.body["data"]["testCode"], third.body["data"]["testCode"]}) {
      CHECK(e.dump().find(c.get<std::string>()) == std::string::npos);
    }
  }
}

TEST_CASE("reads: filters, pagination and tenant walls for /v1/otp, /v1/inbox and /v1/users") {
  testing::TestServer server(generous());
  testing::Sandbox ann(server, "ann@example.com");
  testing::Sandbox bob(server, "bob@example.com");
  const auto a1 = ann.create_app(), a2 = ann.create_app();
  const auto b1 = bob.create_app();
  const auto s1 = ann.send(a1, "+999100000001");
  const auto s2 = ann.send(a2, "+999100000002");
  const auto s3 = ann.send(a1, "+999100000003");
  ann.verify(a1, s3.body["data"]["requestId"], s3.body["data"]["testCode"]);
  const auto sb = bob.send(b1, "+999100000001");
  bob.verify(b1, sb.body["data"]["requestId"], sb.body["data"]["testCode"]);

  auto ids = [](const json& list) {
    std::vector<std::string> out;
    for (const auto& item : list) out.push_back(item.contains("requestId") ? item["requestId"] : item["phoneNumber"]);
    return out;
  };
  const std::string r1 = s1.body["data"]["requestId"], r2 = s2.body["data"]["requestId"], r3 = s3.body["data"]["requestId"];
  CHECK(ids(ann.console("GET", "/v1/otp").body["data"]) == std::vector<std::string>{r3, r2, r1});
  CHECK(ids(ann.console("GET", "/v1/otp?appId=" + a1.id).body["data"]) == std::vector<std::string>{r3, r1});
  CHECK(ids(ann.console("GET", "/v1/otp?status=verified").body["data"]) == std::vector<std::string>{r3});
  CHECK(ids(ann.console("GET", "/v1/otp?status=pending&appId=" + a1.id).body["data"]) == std::vector<std::string>{r1});
  const auto page = ann.console("GET", "/v1/otp?limit=2");
  CHECK(ids(page.body["data"]) == std::vector<std::string>{r3, r2});
  CHECK(ids(ann.console("GET", "/v1/otp?limit=2&cursor=" + page.body["nextCursor"].get<std::string>()).body["data"]) ==
        std::vector<std::string>{r1});
  CHECK(ann.console("GET", "/v1/otp?status=done").status == 400);
  CHECK(ann.console("GET", "/v1/otp?appId=" + b1.id).status == 404);
  CHECK(ann.console("GET", "/v1/otp/" + sb.body["data"]["requestId"].get<std::string>()).status == 404);

  CHECK(ann.console("GET", "/v1/inbox").body["data"].size() == 3);
  CHECK(ann.console("GET", "/v1/inbox?phone=%2B999%20100%20000%20001").body["data"].size() == 1);
  CHECK(ann.console("GET", "/v1/inbox?appId=" + a2.id).body["data"].size() == 1);
  CHECK(ann.console("GET", "/v1/inbox?appId=" + b1.id).status == 404);
  CHECK(ann.console("GET", "/v1/inbox?phone=nonsense").status == 400);

  CHECK(ids(ann.console("GET", "/v1/users").body["data"]) == std::vector<std::string>{"+999 100 000 003"});
  CHECK(ann.console("GET", "/v1/users/%2B999100000001").status == 404);  // only Bob verified that one
  CHECK(bob.console("GET", "/v1/users/%2B999100000001").status == 200);
  CHECK(perform(ann.client, "GET", "/v1/users/%2B999100000001", "", "", {{"x-api-key", a1.api_key}}).status == 404);
  CHECK(perform(ann.client, "GET", "/v1/users/%2B999100000001", "", "", {{"x-api-key", b1.api_key}}).status == 200);
  CHECK(perform(ann.client, "GET", "/v1/users/%2B999100000003", "", "", {{"x-api-key", "ph_test_api_bad"}}).status == 401);
  CHECK(perform(ann.client, "GET", "/v1/users/%2B999100000003").status == 401);
}

TEST_CASE("the expiry sweep: overdue requests become expired and lose their code; verify then emits otp.expired once") {
  testing::TestServer server;
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app();
  const auto sent = sandbox.send(app, kVirtual);
  const std::string id = sent.body["data"]["requestId"];
  const std::string code = sent.body["data"]["testCode"];
  const auto fresh = sandbox.send(app, "+999 482 918 103");  // still in time when the sweep runs
  const std::string fresh_id = fresh.body["data"]["requestId"];
  auto& otp = server.application().runtime().otp();
  auto stored = [&](const std::string& request_id) {
    return server.application().database().read([&](storage::Connection& c) {
      storage::Prepared q(c, "SELECT status, CASE WHEN code_hash IS NULL THEN 1 ELSE 0 END FROM otp_requests WHERE id = ?");
      q->bind(1, request_id);
      REQUIRE(q->executeStep());
      return q->getColumn(0).getString() + (q->getColumn(1).getInt() == 1 ? " without hash" : " with hash");
    });
  };

  CHECK(otp.expire_overdue() == 0);
  server.clock().advance(std::chrono::seconds(240));
  const auto late = sandbox.send(app, "+999 482 918 104");
  const std::string late_id = late.body["data"]["requestId"];
  server.clock().advance(std::chrono::seconds(61));  // the first two are past their 5 minutes
  CHECK(otp.expire_overdue() == 2);
  CHECK(stored(id) == "expired without hash");
  CHECK(stored(fresh_id) == "expired without hash");
  CHECK(stored(late_id) == "pending with hash");
  CHECK(otp.expire_overdue() == 0);
  // The inbox no longer shows the code.
  const auto inbox = sandbox.console("GET", "/v1/inbox");
  for (const auto& message : inbox.body["data"]) {
    if (message["requestId"] == id) CHECK(message["message"] == "[expired]");
  }
  // No event for the sweep itself; the first verify after the TTL gets one, as before.
  auto expired_events = [&] {
    int count = 0;
    const auto logs = sandbox.console("GET", "/v1/logs");
    for (const auto& event : logs.body["data"]) count += event["event"] == "otp.expired" ? 1 : 0;
    return count;
  };
  CHECK(expired_events() == 0);
  for (int i = 0; i < 2; ++i) {
    const auto verify = sandbox.verify(app, id, code);
    CHECK(verify.status == 410);
    CHECK(verify.body["error"]["code"] == "OTP_EXPIRED");
  }
  CHECK(expired_events() == 1);
  CHECK(sandbox.console("GET", "/v1/otp/" + id).body["data"]["status"] == "expired");
}

TEST_CASE("retention also purges expired refresh tokens and phone-failure rows whose last wrong code is past retention") {
  testing::TestServer server({[](app::Config& config) { config.accounts.signup_open = true; }, nullptr});
  auto client = server.client();
  const auto signed_up = testing::perform(client, "POST", "/v1/auth/signup",
                                          R"({"email":"ann@example.com","password":"correct horse battery"})");
  REQUIRE(signed_up.status == 201);
  testing::Sandbox sandbox(server, "bob@example.com");
  const auto app = sandbox.create_app();
  const auto sent = sandbox.send(app, kVirtual);
  const std::string id = sent.body["data"]["requestId"];
  CHECK(sandbox.verify(app, id, wrong_code(sent.body["data"]["testCode"])).status == 400);
  auto count = [&](const char* table) {
    return server.application().database().read(
        [&](storage::Connection& c) { return static_cast<int>(c.query_int64(std::string("SELECT count(*) FROM ") + table)); });
  };
  REQUIRE(count("refresh_tokens") >= 1);
  REQUIRE(count("phone_failures") == 1);

  auto& otp = server.application().runtime().otp();
  otp.purge_history(std::chrono::days(90));
  CHECK(count("refresh_tokens") >= 1);  // still valid
  CHECK(count("phone_failures") == 1);  // its wrong code is recent

  server.clock().advance(std::chrono::days(31));  // refresh tokens live 30 days
  otp.purge_history(std::chrono::days(90));
  CHECK(count("refresh_tokens") == 0);
  CHECK(count("phone_failures") == 1);

  server.clock().advance(std::chrono::days(60));  // the request and the wrong code are now past retention
  otp.purge_history(std::chrono::days(90));
  CHECK(count("otp_requests") == 0);
  CHECK(count("phone_failures") == 0);

  // The purge reads phone_failures alone: its plan does not walk the OTP history.
  if (server.application().database().engine() == storage::Engine::kSqlite) {
    const auto plan = server.application().database().read([](storage::Connection& c) {
      std::string text;
      storage::Prepared explain(c, "EXPLAIN QUERY PLAN DELETE FROM phone_failures WHERE (app_id, phone) IN (SELECT f.app_id, "
                                   "f.phone FROM phone_failures f WHERE (f.locked_until IS NULL OR f.locked_until <= '') "
                                   "AND f.updated_at < '' LIMIT 500)");
      while (explain->executeStep()) text += explain->getColumn(3).getString() + "\n";
      return text;
    });
    CAPTURE(plan);
    CHECK(plan.find("otp_requests") == std::string::npos);
  }
}

TEST_CASE("retention removes exactly the history older than the cutoff, in bounded passes, keeping the rest") {
  testing::TestServer server({[](app::Config& config) {
                                config.otp.send_rate_limit = config.otp.phone_send_limit = 100000;
                              },
                              nullptr});
  testing::Sandbox sandbox(server, "bob@example.com");
  const auto app = sandbox.create_app();
  auto& clock = server.clock();
  const auto start = clock.now();
  // 1,200 old requests (more than one pass of 500), then 3 recent ones.
  for (int i = 0; i < 1200; ++i) {
    REQUIRE(sandbox.send(app, "+9991" + std::to_string(10000000 + i)).status == 201);
    clock.advance(std::chrono::milliseconds(1));
  }
  clock.set(start + std::chrono::days(60));
  for (int i = 0; i < 3; ++i) REQUIRE(sandbox.send(app, "+9992" + std::to_string(10000000 + i)).status == 201);
  auto count = [&](const char* table) {
    return server.application().database().read(
        [&](storage::Connection& c) { return static_cast<int>(c.query_int64(std::string("SELECT count(*) FROM ") + table)); });
  };
  REQUIRE(count("otp_requests") == 1203);
  REQUIRE(count("inbox_messages") == 1203);
  REQUIRE(count("events") == 1203);

  auto& otp = server.application().runtime().otp();
  clock.set(start + std::chrono::days(89));
  CHECK(otp.purge_history(std::chrono::days(90)) == 0);  // nothing is 90 days old yet
  clock.set(start + std::chrono::days(91));
  CHECK(otp.purge_history(std::chrono::days(90)) == 3 * 1200);
  for (const char* table : {"otp_requests", "inbox_messages", "events"}) {
    CAPTURE(table);
    CHECK(count(table) == 3);
  }
  CHECK(sandbox.console("GET", "/v1/otp").body["data"].size() == 3);
  CHECK(sandbox.console("GET", "/v1/analytics/summary").body["data"]["otpRequests"] == 1203);  // counters stay
}
