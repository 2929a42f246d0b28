// Webhooks through the real server and real receivers on loopback: registration, both
// signatures checked the way a customer would (with OpenSSL, independently of our code),
// retries, 410, redirects, timeouts, the SSRF guard, test sends and the delivery log.
#include <doctest/doctest.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "core/jwt.h"
#include "storage/sqlite/connection.h"
#include "tests/support/sandbox.h"

using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string hmac_sha256(const std::string& key, const std::string& message) {
  unsigned char out[32];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), out, &length);
  return std::string(reinterpret_cast<char*>(out), length);
}

std::string to_hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) {
    hex += digits[c >> 4];
    hex += digits[c & 0xf];
  }
  return hex;
}

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(bytes.data()),
                  static_cast<int>(bytes.size()));
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::string unbase64(const std::string& text) {
  std::string out(text.size(), '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(length) - (text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0));
  return out;
}

// What a customer checks: our header and the Standard Webhooks header, against `secret`.
bool signed_with(const httplib::Request& request, const std::string& secret) {
  const std::string ours = "sha256=" + to_hex(hmac_sha256(secret, request.body));
  const std::string standard = "v1," + base64(hmac_sha256(unbase64(secret.substr(6)),
                                                          request.get_header_value("webhook-id") + "." +
                                                              request.get_header_value("webhook-timestamp") + "." +
                                                              request.body));
  auto contains = [](const std::string& header, const std::string& signature) {
    std::istringstream parts(header);
    for (std::string part; parts >> part;) {
      if (part == signature) return true;
    }
    return false;
  };
  return contains(request.get_header_value("x-cobinar-signature"), ours) &&
         contains(request.get_header_value("webhook-signature"), standard);
}

class Receiver {
 public:
  Receiver() {
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_.load()));
      {
        std::lock_guard lock(mutex_);
        received_.push_back(req);
      }
      if (redirect_) {
        res.status = 302;
        res.set_header("Location", "/elsewhere");
        return;
      }
      res.status = status_;
      res.set_content("{}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path = "/hook") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  void answer(int status) { status_ = status; }
  void delay(int ms) { delay_ms_ = ms; }
  void redirect(bool on) { redirect_ = on; }
  std::vector<httplib::Request> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (received().size() >= count) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::atomic<int> status_{200};
  std::atomic<int> delay_ms_{0};
  std::atomic<bool> redirect_{false};
  std::mutex mutex_;
  std::vector<httplib::Request> received_;
  std::thread thread_;
};

testing::TestServerOptions loopback_webhooks(std::vector<std::chrono::seconds> schedule = {1s, 2s}) {
  return {[schedule](app::Config& config) {
            config.webhooks.allow_http = true;
            config.webhooks.allow_private = true;
            config.webhooks.retry_schedule = schedule;
            config.webhooks.timeout = 1s;
            config.webhooks.workers = 2;
            config.otp.send_rate_limit = config.otp.verify_rate_limit = config.otp.phone_send_limit = 1000;
          },
          nullptr};
}

json register_hook(testing::Sandbox& sandbox, const testing::AppCredentials& app, const std::string& url,
                   const json& events = {"otp.created", "otp.verified", "otp.failed", "otp.expired", "identity.created"}) {
  const auto created = sandbox.console("POST", "/v1/webhooks", {{"appId", app.id}, {"url", url}, {"events", events}});
  REQUIRE_MESSAGE(created.status == 201, created.raw_body);
  return created.body["data"];
}

json deliveries(testing::Sandbox& sandbox, const std::string& webhook_id) {
  return sandbox.console("GET", "/v1/webhooks/" + webhook_id + "/deliveries").body["data"];
}

// Waits until the webhook's deliveries satisfy `done`.
bool wait_deliveries(testing::Sandbox& sandbox, const std::string& webhook_id, const std::function<bool(const json&)>& done) {
  for (int i = 0; i < 500; ++i) {
    if (done(deliveries(sandbox, webhook_id))) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

}  // namespace

TEST_CASE("webhooks: registration, validation and tenant walls") {
  testing::TestServer server({[](app::Config& config) { config.webhooks.allow_http = false; }, nullptr});
  testing::Sandbox ann(server, "ann@example.com");
  testing::Sandbox bob(server, "bob@example.com");
  const auto app = ann.create_app();
  const auto bob_app = bob.create_app();

  const auto created = ann.console("POST", "/v1/webhooks",
                                   {{"appId", app.id}, {"url", "https://hooks.example.com/in"}, {"events", {"otp.verified", "application.created", "otp.verified"}}});
  REQUIRE(created.status == 201);
  const json hook = created.body["data"];
  CHECK(hook["status"] == "enabled");
  CHECK(hook["events"] == json{"otp.verified", "application.created"});
  CHECK(hook["appId"] == app.id);
  const std::string path = "/v1/webhooks/" + hook["id"].get<std::string>();
  CHECK(ann.console("GET", path).body["data"] == hook);
  CHECK(ann.console("GET", "/v1/webhooks?appId=" + app.id).body["data"].size() == 1);

  struct Case {
    json body;
    std::string field;
  };
  for (const auto& c : std::vector<Case>{
           {{{"appId", app.id}, {"url", "http://hooks.example.com/in"}, {"events", {"otp.verified"}}}, "url"},
           {{{"appId", app.id}, {"url", "https://user:pw@hooks.example.com/"}, {"events", {"otp.verified"}}}, "url"},
           {{{"appId", app.id}, {"url", "https://hooks.example.com/" + std::string(2040, 'a')}, {"events", {"otp.verified"}}}, "url"},
           {{{"appId", app.id}, {"url", "ftp://hooks.example.com/"}, {"events", {"otp.verified"}}}, "url"},
           {{{"appId", app.id}, {"url", "https://hooks.example.com/"}, {"events", {"otp.sent"}}}, "events"},
           {{{"appId", app.id}, {"url", "https://hooks.example.com/"}, {"events", json::array()}}, "events"},
           {{{"appId", app.id}, {"url", "https://hooks.example.com/"}, {"events", "otp.verified"}}, "events"},
           {{{"url", "https://hooks.example.com/"}, {"events", {"otp.verified"}}}, "appId"},
       }) {
    CAPTURE(c.body.dump().substr(0, 120));
    const auto refused = ann.console("POST", "/v1/webhooks", c.body);
    CHECK(refused.status == 400);
    CHECK(refused.body["error"]["details"]["fields"].contains(c.field));
  }
  CHECK(ann.console("POST", "/v1/webhooks", {{"appId", bob_app.id}, {"url", "https://h.example.com/"}, {"events", {"otp.verified"}}}).status == 404);
  CHECK(ann.console("GET", "/v1/webhooks?appId=" + bob_app.id).status == 404);

  const auto patched = ann.console("PATCH", path, {{"status", "disabled"}, {"events", {"otp.failed"}}, {"url", "https://other.example.com/x"}});
  CHECK(patched.status == 200);
  CHECK(patched.body["data"]["status"] == "disabled");
  CHECK(patched.body["data"]["events"] == json{"otp.failed"});
  CHECK(ann.console("PATCH", path, {{"status", "paused"}}).status == 400);
  CHECK(ann.console("PATCH", path, {{"appId", bob_app.id}}).status == 400);

  // Bob cannot see or touch Ann's webhook, on any route.
  for (const auto& [method, suffix] : std::vector<std::pair<std::string, std::string>>{
           {"GET", ""}, {"PATCH", ""}, {"DELETE", ""}, {"POST", "/test"}, {"GET", "/deliveries"}, {"POST", "/deliveries/x/retry"}}) {
    CAPTURE(method + suffix);
    CHECK(bob.console(method, path + suffix, method == "PATCH" ? json{{"status", "enabled"}} : json(nullptr)).status == 404);
  }
  CHECK(bob.console("GET", "/v1/webhooks").body["data"].empty());
  CHECK(ann.console("DELETE", path).status == 200);
  CHECK(ann.console("GET", path).status == 404);
}

TEST_CASE("deliveries carry the SPEC body and both signatures, only for subscribed events") {
  Receiver receiver;
  testing::TestServer server(loopback_webhooks());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app();
  const json hook = register_hook(sandbox, app, receiver.url(), {"otp.created", "otp.verified"});

  const auto sent = sandbox.send(app, "+999 482 918 102");
  const std::string id = sent.body["data"]["requestId"], code = sent.body["data"]["testCode"];
  sandbox.verify(app, id, code == "000000" ? "111111" : "000000");  // otp.failed: not subscribed
  sandbox.verify(app, id, code);
  REQUIRE(receiver.wait_for(2));
  std::this_thread::sleep_for(300ms);
  const auto received = receiver.received();
  REQUIRE(received.size() == 2);

  // Delivery threads run in parallel, so arrival order is not part of the contract.
  json created = json::parse(received[0].body), verified = json::parse(received[1].body);
  if (created.value("event", "") != "otp.created") std::swap(created, verified);
  CHECK(created["event"] == "otp.created");
  CHECK(created["payload"] == json{{"requestId", id}, {"appId", app.id}, {"phone", "+999 482 918 102"},
                                   {"expiresAt", sent.body["data"]["expiresAt"]}});
  CHECK(verified["event"] == "otp.verified");
  CHECK(verified["payload"].value("verifiedAt", "") == "2026-07-03T14:22:10.000Z");
  for (const auto& request : received) {
    const json body = json::parse(request.body);
    CHECK(body.size() == 4);
    CHECK(request.body.find(code) == std::string::npos);
    CHECK(signed_with(request, app.webhook_secret));
    CHECK(request.get_header_value("x-cobinar-event") == body["event"]);
    CHECK(request.get_header_value("x-cobinar-event-id") == body["id"]);
    CHECK(request.get_header_value("webhook-id") == body["id"]);
    CHECK(request.get_header_value("x-cobinar-timestamp") == body["createdAt"]);
    CHECK(request.get_header_value("webhook-timestamp") == "1783088530");  // the attempt time, unix seconds
    CHECK(request.get_header_value("Content-Type") == "application/json");
  }
  const json log = deliveries(sandbox, hook["id"]);
  REQUIRE(log.size() == 2);
  CHECK(log[0]["status"] == "succeeded");
  CHECK(log[0]["attempts"] == 1);
  CHECK(log[0]["lastStatusCode"] == 200);
  CHECK(log[0]["nextAttemptAt"].is_null());
}

TEST_CASE("a failing receiver is retried with backoff until it succeeds; retries run out into failed") {
  Receiver receiver;
  receiver.answer(500);
  testing::TestServer server(loopback_webhooks({10s, 20s}));
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app();
  const json hook = register_hook(sandbox, app, receiver.url(), {"otp.created"});
  const std::string hook_id = hook["id"];

  sandbox.send(app, "+999 482 918 102");
  REQUIRE(wait_deliveries(sandbox, hook_id, [](const json& d) { return d.size() == 1 && d[0]["attempts"] == 1; }));
  json first = deliveries(sandbox, hook_id)[0];
  CHECK(first["status"] == "pending");
  CHECK(first["lastStatusCode"] == 500);
  CHECK(first["lastError"] == "HTTP 500");
  // Backoff of 10 s with ±20 % jitter from the attempt time.
  const auto next = *core::parse_timestamp(first["nextAttemptAt"].get<std::string>());
  const auto attempted = *core::parse_timestamp(first["lastAttemptAt"].get<std::string>());
  CHECK(next - attempted >= 8s);
  CHECK(next - attempted <= 12s);

  server.clock().advance(12s);
  REQUIRE(wait_deliveries(sandbox, hook_id, [](const json& d) { return d[0]["attempts"] == 2; }));
  receiver.answer(204);
  server.clock().advance(24s);
  REQUIRE(wait_deliveries(sandbox, hook_id, [](const json& d) { return d[0]["status"] == "succeeded"; }));
  CHECK(deliveries(sandbox, hook_id)[0]["attempts"] == 3);
  CHECK(receiver.received().size() == 3);
  for (const auto& r : receiver.received()) CHECK(r.body == receiver.received()[0].body);  // same bytes each time

  receiver.answer(503);
  sandbox.send(app, "+999 100 000 001");
  REQUIRE(wait_deliveries(sandbox, hook_id, [](const json& d) { return d.size() == 2 && d[0]["attempts"] == 1; }));
  server.clock().advance(12s);
  REQUIRE(wait_deliveries(sandbox, hook_id, [](const json& d) { return d[0]["attempts"] == 2; }));
  server.clock().advance(24s);
  REQUIRE(wait_deliveries(sandbox, hook_id, [](const json& d) { return d[0]["status"] == "failed"; }));
  CHECK(deliveries(sandbox, hook_id)[0]["attempts"] == 3);

  // A manual retry sends it again now.
  receiver.answer(200);
  const std::string delivery_id = deliveries(sandbox, hook_id)[0]["id"];
  const auto retried = sandbox.console("POST", "/v1/webhooks/" + hook_id + "/deliveries/" + delivery_id + "/retry");
  CHECK(retried.status == 200);
  CHECK(retried.body["data"]["status"] == "succeeded");
  CHECK(retried.body["data"]["attempts"] == 4);
  CHECK(sandbox.console("POST", "/v1/webhooks/" + hook_id + "/deliveries/unknown/retry").status == 404);
}

TEST_CASE("410 Gone disables the webhook; redirects are not followed") {
  Receiver receiver;
  testing::TestServer server(loopback_webhooks());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app();
  const json gone = register_hook(sandbox, app, receiver.url("/gone"), {"otp.created"});

  receiver.answer(410);
  sandbox.send(app, "+999 482 918 102");
  REQUIRE(wait_deliveries(sandbox, gone["id"], [](const json& d) { return d.size() == 1 && d[0]["status"] == "failed"; }));
  CHECK(sandbox.console("GET", "/v1/webhooks/" + gone["id"].get<std::string>()).body["data"]["status"] == "disabled");
  sandbox.send(app, "+999 100 000 001");
  std::this_thread::sleep_for(300ms);
  CHECK(deliveries(sandbox, gone["id"]).size() == 1);  // disabled: no new deliveries

  receiver.answer(200);
  receiver.redirect(true);
  const json moved = register_hook(sandbox, app, receiver.url("/moved"), {"otp.created"});
  sandbox.send(app, "+999 100 000 002");
  REQUIRE(wait_deliveries(sandbox, moved["id"], [](const json& d) { return d.size() == 1 && d[0]["attempts"] == 1; }));
  const json attempt = deliveries(sandbox, moved["id"])[0];
  CHECK(attempt["status"] == "pending");
  CHECK(attempt["lastStatusCode"] == 302);
  CHECK(attempt["lastError"].get<std::string>().find("redirect") != std::string::npos);
  for (const auto& r : receiver.received()) CHECK(r.path != "/elsewhere");
}

TEST_CASE("a hanging receiver times out and slows neither OTP requests nor other receivers") {
  Receiver slow, fast;
  slow.delay(3000);
  testing::TestServer server(loopback_webhooks());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app();
  const json slow_hook = register_hook(sandbox, app, slow.url(), {"otp.created"});
  const json fast_hook = register_hook(sandbox, app, fast.url(), {"otp.created"});

  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) CHECK(sandbox.send(app, "+999 100 000 00" + std::to_string(i)).status == 201);
  CHECK(std::chrono::steady_clock::now() - started < 1s);
  CHECK(fast.wait_for(3, 2500ms));
  REQUIRE(wait_deliveries(sandbox, slow_hook["id"], [](const json& d) {
    return d.size() == 3 && d[2]["attempts"] == 1;
  }));
  const json timed_out = deliveries(sandbox, slow_hook["id"])[2];
  CHECK(timed_out["lastStatusCode"].is_null());
  CHECK(timed_out["lastError"].get<std::string>().find("no answer") != std::string::npos);
  (void)fast_hook;
}

TEST_CASE("the SSRF guard refuses loopback receivers unless --webhook-allow-private") {
  Receiver receiver;
  testing::TestServer server({[](app::Config& config) { config.webhooks.allow_http = true; }, nullptr});
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app();
  const json hook = register_hook(sandbox, app, receiver.url(), {"otp.verified"});
  const auto test = sandbox.console("POST", "/v1/webhooks/" + hook["id"].get<std::string>() + "/test");
  CHECK(test.status == 200);
  CHECK(test.body["data"] == json{{"delivered", false}, {"statusCode", nullptr}});
  const json log = deliveries(sandbox, hook["id"]);
  REQUIRE(log.size() == 1);
  CHECK(log[0]["lastError"].get<std::string>().find("loopback") != std::string::npos);
  CHECK(receiver.received().empty());

  // A hostname is judged by what it resolves to at delivery time.
  const json named = register_hook(sandbox, app, "http://localhost:" + receiver.url().substr(receiver.url().rfind(':') + 1),
                                   {"otp.verified"});
  CHECK(sandbox.console("POST", "/v1/webhooks/" + named["id"].get<std::string>() + "/test").body["data"]["delivered"] == false);
  CHECK(receiver.received().empty());
}

TEST_CASE("the test endpoint sends one signed otp.verified event now and logs it") {
  Receiver receiver;
  testing::TestServer server(loopback_webhooks());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app();
  const json hook = register_hook(sandbox, app, receiver.url(), {"otp.created"});
  const auto test = sandbox.console("POST", "/v1/webhooks/" + hook["id"].get<std::string>() + "/test");
  CHECK(test.body["data"] == json{{"delivered", true}, {"statusCode", 200}});
  REQUIRE(receiver.received().size() == 1);
  const auto request = receiver.received()[0];
  CHECK(signed_with(request, app.webhook_secret));
  const json body = json::parse(request.body);
  CHECK(body["event"] == "otp.verified");
  CHECK(body["payload"]["test"] == true);
  const json log = deliveries(sandbox, hook["id"]);
  REQUIRE(log.size() == 1);
  CHECK(log[0]["event"] == "otp.verified");
  CHECK(log[0]["status"] == "succeeded");
  receiver.answer(500);
  CHECK(sandbox.console("POST", "/v1/webhooks/" + hook["id"].get<std::string>() + "/test").body["data"] ==
        json{{"delivered", false}, {"statusCode", 500}});
}

TEST_CASE("during a webhook-secret rotation grace period both signatures are sent") {
  Receiver receiver;
  testing::TestServer server(loopback_webhooks());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app();
  const json hook = register_hook(sandbox, app, receiver.url(), {"otp.verified"});
  const std::string hook_path = "/v1/webhooks/" + hook["id"].get<std::string>() + "/test";
  const std::string new_secret = sandbox.console("POST", "/v1/applications/" + app.id + "/rotate/webhook_secret",
                                                 {{"graceSeconds", 3600}}).body["data"]["value"];
  sandbox.console("POST", hook_path);
  REQUIRE(receiver.received().size() == 1);
  auto request = receiver.received()[0];
  CHECK(signed_with(request, new_secret));
  CHECK(signed_with(request, app.webhook_secret));
  CHECK(request.get_header_value("webhook-signature").find(' ') != std::string::npos);
  CHECK(request.get_header_value("x-cobinar-signature").starts_with("sha256=" + to_hex(hmac_sha256(new_secret, request.body))));

  server.clock().advance(3601s);
  sandbox.console("POST", hook_path);
  REQUIRE(receiver.received().size() == 2);
  request = receiver.received()[1];
  CHECK(signed_with(request, new_secret));
  CHECK_FALSE(signed_with(request, app.webhook_secret));
}

TEST_CASE("deleting an application deletes its webhooks and their pending deliveries") {
  Receiver receiver;
  receiver.answer(500);
  testing::TestServer server(loopback_webhooks({3600s}));
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app();
  const json hook = register_hook(sandbox, app, receiver.url(), {"otp.created"});
  sandbox.send(app, "+999 482 918 102");
  REQUIRE(wait_deliveries(sandbox, hook["id"], [](const json& d) { return d.size() == 1 && d[0]["attempts"] == 1; }));
  CHECK(sandbox.console("DELETE", "/v1/applications/" + app.id).status == 200);
  CHECK(sandbox.console("GET", "/v1/webhooks/" + hook["id"].get<std::string>()).status == 404);
  const long long left = server.application().database().read([](storage::Connection& c) {
    return c.query_int64("SELECT count(*) FROM webhook_deliveries");
  });
  CHECK(left == 0);
}

TEST_CASE("a burst of events is delivered once each, in batches, over kept-alive connections") {
  Receiver receiver;
  testing::TestServer server(loopback_webhooks());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app();
  const json hook = register_hook(sandbox, app, receiver.url(), {"otp.created"});

  constexpr int kSends = 120;
  for (int i = 0; i < kSends; ++i) {
    REQUIRE(sandbox.send(app, "+999 200 000 " + std::to_string(100 + i)).status == 201);
  }
  REQUIRE(receiver.wait_for(kSends, 10s));
  std::this_thread::sleep_for(300ms);
  const auto received = receiver.received();
  CHECK(received.size() == static_cast<std::size_t>(kSends));  // none twice
  std::set<std::string> event_ids;
  std::set<int> connections;
  for (const auto& request : received) {
    event_ids.insert(request.get_header_value("webhook-id"));
    connections.insert(request.remote_port);
  }
  CHECK(event_ids.size() == static_cast<std::size_t>(kSends));
  // Two delivery workers, each keeping its connection: a handful of connections, not one per event.
  CHECK(connections.size() <= 8);
  REQUIRE(wait_deliveries(sandbox, hook["id"], [](const json& d) {
    return std::all_of(d.begin(), d.end(), [](const json& row) { return row["status"] == "succeeded"; });
  }));
}

TEST_CASE("otp.blocked is delivered, signed, with the rule's payload (SPEC §17)") {
  Receiver receiver;
  auto options = loopback_webhooks();
  options.configure = [configure = options.configure](app::Config& config) {
    configure(config);
    config.otp.sms_driver = "inbox";  // a live app (test apps are exempt from abuse rules)
  };
  testing::TestServer server(options);
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("live", "Shop");
  register_hook(sandbox, app, receiver.url(), {"otp.blocked"});
  REQUIRE(sandbox.console("PUT", "/v1/applications/" + app.id + "/policy",
                          {{"conversionBreaker", {{"minSends", 1}, {"minConversion", 1}}}})
              .status == 200);
  CHECK(sandbox.send(app, "+449098765432").status == 403);  // premium rate: number_type
  CHECK(sandbox.send(app, "+447400123456").status == 201);
  CHECK(sandbox.send(app, "+447400123457").status == 403);  // 0 of 1 verified: conversion_breaker
  REQUIRE(receiver.wait_for(2));
  std::this_thread::sleep_for(300ms);
  const auto received = receiver.received();
  REQUIRE(received.size() == 2);
  std::map<std::string, json> by_rule;
  for (const auto& request : received) {
    CHECK(signed_with(request, app.webhook_secret));
    CHECK(request.get_header_value("x-cobinar-event") == "otp.blocked");
    const json body = json::parse(request.body);
    by_rule[body["payload"]["rule"]] = body["payload"];
  }
  CHECK(by_rule["number_type"] == json{{"appId", app.id}, {"phone", "+44 909 876 5432"}, {"rule", "number_type"},
                                       {"region", "GB"}, {"prefix", nullptr}});
  CHECK(by_rule["conversion_breaker"] == json{{"appId", app.id}, {"phone", "+44 7400 123457"},
                                              {"rule", "conversion_breaker"}, {"region", "GB"}, {"prefix", "+447400"}});
}
