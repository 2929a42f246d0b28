// SMS delivery through a real loopback gateway (http driver) and a real script (exec driver):
// escaping, success, retries, failure, and no shell.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <mutex>
#include <thread>

#include "tests/support/sandbox.h"
#include "storage/sqlite/connection.h"

using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// An SMS gateway on loopback that records what it receives and answers `status`.
class FakeGateway {
 public:
  FakeGateway() {
    server_.Get("/send", [this](const httplib::Request& req, httplib::Response& res) { record(req, res); });
    server_.Post("/send", [this](const httplib::Request& req, httplib::Response& res) { record(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~FakeGateway() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  void answer(int status) { status_ = status; }
  std::vector<httplib::Request> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }
  // Waits until `count` requests arrived.
  bool wait_for(std::size_t count) {
    for (int i = 0; i < 500; ++i) {
      if (received().size() >= count) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

 private:
  void record(const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard lock(mutex_);
      received_.push_back(req);
    }
    res.status = status_;
    res.set_content("ok", "text/plain");
  }

  httplib::Server server_;
  int port_ = 0;
  std::atomic<int> status_{200};
  std::mutex mutex_;
  std::vector<httplib::Request> received_;
  std::thread thread_;
};

std::string delivery_status(testing::Sandbox& sandbox, const std::string& id) {
  return sandbox.console("GET", "/v1/otp/" + id).body["data"]["deliveryStatus"];
}

bool wait_for_status(testing::Sandbox& sandbox, const std::string& id, const std::string& status) {
  for (int i = 0; i < 500; ++i) {
    if (delivery_status(sandbox, id) == status) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

// Waits until the worker has recorded `attempts` attempts of the request's SMS job, so the
// test moves the clock only after the retry time was computed from it.
bool wait_for_attempts(testing::TestServer& server, const std::string& request_id, int attempts) {
  for (int i = 0; i < 500; ++i) {
    const int recorded = server.application().database().read([&](storage::Connection& c) {
      storage::Prepared q(c, "SELECT attempts FROM sms_jobs WHERE request_id = ?");
      q->bind(1, request_id);
      return q->executeStep() ? q->getColumn(0).getInt() : 0;
    });
    if (recorded >= attempts) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

std::string code_of(testing::TestServer& server, const std::string& text) {
  (void)server;
  return text.substr(0, 6);
}

}  // namespace

TEST_CASE("http driver, Kannel style: GET with URL-encoded placeholders") {
  FakeGateway gateway;
  testing::TestServer server({[&](app::Config& config) {
                                config.otp.sms_driver = "http";
                                config.sms_http.method = "GET";
                                config.sms_http.url = "http://127.0.0.1:" + std::to_string(gateway.port()) +
                                                      "/send?username=u&to={phone}&text={message}";
                              },
                              nullptr});
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("live", "Acme & Sons");
  const auto sent = sandbox.send(app, "+44 20 7946 0958");
  REQUIRE(sent.status == 201);
  const std::string id = sent.body["data"]["requestId"];
  CHECK(sent.body["data"].contains("testCode") == false);

  REQUIRE(gateway.wait_for(1));
  const auto request = gateway.received()[0];
  CHECK(request.get_param_value("username") == "u");
  CHECK(request.get_param_value("to") == "+442079460958");
  const std::string text = request.get_param_value("text");
  CHECK(text.substr(6) == " is your Acme & Sons verification code. It expires in 5 minutes.");
  REQUIRE(wait_for_status(sandbox, id, "sent"));
  // The delivered code is the one that verifies.
  CHECK(sandbox.verify(app, id, code_of(server, text)).status == 200);
  // Nothing went to the inbox.
  CHECK(sandbox.console("GET", "/v1/inbox").body["data"].empty());
}

TEST_CASE("http driver, JSON gateway: POST with JSON-escaped values and headers") {
  FakeGateway gateway;
  testing::TestServer server({[&](app::Config& config) {
                                config.otp.sms_driver = "http";
                                config.sms_http.url = "http://127.0.0.1:" + std::to_string(gateway.port()) + "/send";
                                config.sms_http.content_type = "application/json";
                                config.sms_http.body = R"({"to":"{phone}","text":"{message}","app":"{app}"})";
                                config.sms_http.headers = {"Authorization: Bearer gateway-token"};
                              },
                              nullptr});
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("live", "Quote \"Shop\"\\");
  REQUIRE(sandbox.send(app, "+1 415 555 2671").status == 201);
  REQUIRE(gateway.wait_for(1));
  const auto request = gateway.received()[0];
  CHECK(request.get_header_value("Authorization") == "Bearer gateway-token");
  CHECK(request.get_header_value("Content-Type") == "application/json");
  const auto body = json::parse(request.body);  // well-formed despite quotes in the app name
  CHECK(body["to"] == "+14155552671");
  CHECK(body["app"] == "Quote \"Shop\"\\");
  CHECK(body["text"].get<std::string>().find("is your Quote \"Shop\"\\ verification code") != std::string::npos);
}

TEST_CASE("virtual numbers and test apps never reach the gateway") {
  FakeGateway gateway;
  testing::TestServer server({[&](app::Config& config) {
                                config.otp.sms_driver = "http";
                                config.sms_http.url = "http://127.0.0.1:" + std::to_string(gateway.port()) + "/send";
                              },
                              nullptr});
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto live = sandbox.create_app("live"), test = sandbox.create_app("test");
  CHECK(sandbox.send(live, "+999 482 918 102").status == 201);
  CHECK(sandbox.send(test, "+1 415 555 2671").status == 201);
  std::this_thread::sleep_for(200ms);
  CHECK(gateway.received().empty());
  CHECK(sandbox.console("GET", "/v1/inbox").body["data"].size() == 2);
}

TEST_CASE("a failing gateway is retried on schedule, then the delivery is failed") {
  FakeGateway gateway;
  gateway.answer(503);
  testing::TestServer server({[&](app::Config& config) {
                                config.otp.sms_driver = "http";
                                config.sms_http.url = "http://127.0.0.1:" + std::to_string(gateway.port()) + "/send";
                                config.sms_delivery.retry_schedule = {5s, 30s};
                              },
                              nullptr});
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("live");
  const std::string id = sandbox.send(app, "+1 415 555 2671").body["data"]["requestId"];
  REQUIRE(wait_for_attempts(server, id, 1));
  CHECK(delivery_status(sandbox, id) == "queued");

  server.clock().advance(5s);  // first retry due; the worker polls every second
  REQUIRE(wait_for_attempts(server, id, 2));
  gateway.answer(200);
  server.clock().advance(30s);
  REQUIRE(gateway.wait_for(3));
  CHECK(wait_for_status(sandbox, id, "sent"));

  gateway.answer(500);
  const std::string failing = sandbox.send(app, "+1 415 555 2672").body["data"]["requestId"];
  REQUIRE(wait_for_attempts(server, failing, 1));
  server.clock().advance(5s);
  REQUIRE(wait_for_attempts(server, failing, 2));
  server.clock().advance(30s);
  REQUIRE(gateway.wait_for(6));
  CHECK(wait_for_status(sandbox, failing, "failed"));
  server.clock().advance(1h);
  std::this_thread::sleep_for(1500ms);
  CHECK(gateway.received().size() == 6);  // no attempts after the schedule ends
}

TEST_CASE("exec driver: runs the program with argument templates, no shell; exit 0 = sent") {
  testing::TempDir dir;
  const std::string script = dir.file("send-sms.sh"), out = dir.file("out.txt"), marker = dir.file("pwned");
  testing::write_file(script, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '" + out +
                                  "'; done\n[ \"$2\" = \"+14155550000\" ] && exit 3\nexit 0\n");
  ::chmod(script.c_str(), 0755);
  testing::TestServer server({[&](app::Config& config) {
                                config.otp.sms_driver = "exec";
                                config.sms_exec.program = script;
                                config.sms_exec.args = {"--to", "{phone}", "--text", "{message}"};
                                config.sms_delivery.retry_schedule = {};
                              },
                              nullptr});
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("live", "x; touch " + marker + " #");
  const std::string id = sandbox.send(app, "+1 415 555 2671").body["data"]["requestId"];
  REQUIRE(wait_for_status(sandbox, id, "sent"));
  const std::string written = testing::read_file(out);
  CHECK(written.starts_with("--to\n+14155552671\n--text\n"));
  CHECK(written.find("is your x; touch " + marker + " # verification code") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(marker));  // the app name was one argument, not a command

  const std::string failed = sandbox.send(app, "+1 415 555 0000").body["data"]["requestId"];
  CHECK(wait_for_status(sandbox, failed, "failed"));
}

TEST_CASE("the http driver needs a URL and the exec driver a program") {
  CHECK_THROWS_AS(testing::TestServer({[](app::Config& c) { c.otp.sms_driver = "http"; }, nullptr}), app::http::StartupError);
  CHECK_THROWS_AS(testing::TestServer({[](app::Config& c) { c.otp.sms_driver = "exec"; }, nullptr}), app::http::StartupError);
}

TEST_CASE("which sends need a configured driver: SMS_NOT_CONFIGURED only for live apps and real numbers") {
  struct Row {
    const char* name;
    const char* driver;  // --sms-driver; "" = not given
    const char* environment;
    const char* phone;
    int expected_status;
    const char* expected_code;
  };
  const std::vector<Row> rows = {
      {"no driver, live app, real number", "", "live", "+44 20 7946 0958", 503, "SMS_NOT_CONFIGURED"},
      {"no driver, live app, +999 virtual number", "", "live", "+999 482 918 102", 201, ""},
      {"no driver, test app, real number", "", "test", "+44 20 7946 0958", 201, ""},
      {"inbox chosen on purpose, live app, real number", "inbox", "live", "+44 20 7946 0958", 201, ""},
      {"no driver, an invalid number is still a 400 first", "", "live", "+44 20", 400, "INVALID_ARGUMENT"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    testing::TestServer server({[&](app::Config& config) { config.otp.sms_driver = row.driver; }, nullptr});
    testing::Sandbox sandbox(server, "ann@example.com");
    const auto app = sandbox.create_app(row.environment);
    const auto sent = sandbox.send(app, row.phone);
    CHECK(sent.status == row.expected_status);
    if (*row.expected_code) {
      CHECK(sent.body["error"]["code"] == row.expected_code);
      // Refused before anything is stored or counted.
      CHECK(sandbox.console("GET", "/v1/otp").body["data"].empty());
    }
  }
}
