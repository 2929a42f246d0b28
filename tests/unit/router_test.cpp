#include <doctest/doctest.h>

#include "app/http/router.h"
#include "app/http/server.h"

TEST_CASE("percent-decoding decodes escapes and refuses broken ones") {
  using app::http::percent_decode;
  CHECK(percent_decode("%2B999%20482") == "+999 482");
  CHECK(percent_decode("plain") == "plain");
  CHECK(percent_decode("a%2fb") == "a/b");
  CHECK_FALSE(percent_decode("%").has_value());
  CHECK_FALSE(percent_decode("%2").has_value());
  CHECK_FALSE(percent_decode("%zz").has_value());
}

TEST_CASE("access-log paths mask phone numbers") {
  using app::http::loggable_path;
  struct Case {
    std::string path, logged;
  };
  for (const auto& c : std::vector<Case>{
           {"/v1/users/+442012345678", "/v1/users/+44*******678"},
           {"/v1/users/+999 482 918 102", "/v1/users/+99* *** *** 102"},
           {"/v1/users/442012345678/x", "/v1/users/44*******678/x"},
           {"/v1/health", "/v1/health"},
           {"/v1/otp/01a231e0-0a6f-7000-8a98-8e6e32b41332", "/v1/otp/01a231e0-0a6f-7000-8a98-8e6e32b41332"},
           {"/v1/users/1234567", "/v1/users/1234567"},
           {"/", "/"},
       }) {
    CAPTURE(c.path);
    CHECK(loggable_path(c.path) == c.logged);
  }
}

TEST_CASE("incoming request ids are echoed only when well-formed") {
  using app::http::is_valid_request_id;
  CHECK(is_valid_request_id("abc-123_x.y:z"));
  CHECK(is_valid_request_id(std::string(128, 'a')));
  CHECK_FALSE(is_valid_request_id(""));
  CHECK_FALSE(is_valid_request_id(std::string(129, 'a')));
  CHECK_FALSE(is_valid_request_id("has space"));
  CHECK_FALSE(is_valid_request_id("semi;colon"));
  CHECK_FALSE(is_valid_request_id("new\nline"));
}

#include "storage/sql.h"

#include "app/http/json_body.h"

namespace {

using app::http::HttpRequest;
using app::http::Reply;

struct Dispatched {
  int status;
  nlohmann::json body;
  std::string raw;
  httplib::Response response;
};

// Drives the Router directly with httplib request objects: no sockets needed.
class RouterHarness {
 public:
  RouterHarness()
      : clock_(core::TimePoint(std::chrono::milliseconds(0))),
        log_(app::LogFormat::kText, clock_, [this](std::string_view line) { lines_.emplace_back(line); }),
        router_(
            {
                {"POST", "/v1/echo", [](const HttpRequest& r) -> core::Result<Reply> {
                   auto body = app::http::json_object_body(r);
                   if (!body.ok()) return body.error();
                   return Reply::data(body.value());
                 }},
                {"GET", "/v1/items/{id}", [](const HttpRequest& r) -> core::Result<Reply> {
                   return Reply::data({{"id", r.path_params.at(0)}});
                 }},
                {"DELETE", "/v1/items/{id}", [](const HttpRequest&) -> core::Result<Reply> {
                   return core::Error::not_found();
                 }},
                {"GET", "/v1/throws", [](const HttpRequest&) -> core::Result<Reply> {
                   throw std::runtime_error("secret internal detail /etc/passwd");
                 }},
                {"GET", "/v1/busy", [](const HttpRequest&) -> core::Result<Reply> {
                   throw storage::Failure(storage::FailureKind::kUnavailable, "database is locked: secret");
                 }},
            },
            log_) {}

  Dispatched dispatch(const std::string& method, const std::string& target, const std::string& body = "",
                      const std::string& content_type = "application/json") {
    httplib::Request request;
    request.method = method;
    request.target = target;
    request.path = target.substr(0, target.find('?'));
    request.body = body;
    if (!body.empty()) {
      request.set_header("Content-Type", content_type);
      request.set_header("Content-Length", std::to_string(body.size()));
    }
    httplib::Response response;
    router_.dispatch(request, response, "req-1");
    return {response.status, nlohmann::json::parse(response.body, nullptr, false), response.body, response};
  }

  const std::vector<std::string>& lines() const { return lines_; }

 private:
  core::ManualClock clock_;
  std::vector<std::string> lines_;
  app::Log log_;
  app::http::Router router_;
};

}  // namespace

TEST_CASE("router: JSON bodies are parsed, and bad ones are 400 or 415") {
  RouterHarness harness;
  const auto ok = harness.dispatch("POST", "/v1/echo", R"({"a":1})");
  CHECK(ok.status == 200);
  CHECK(ok.body == nlohmann::json{{"data", {{"a", 1}}}});
  CHECK(harness.dispatch("POST", "/v1/echo", R"({"a":1})", "application/json; charset=utf-8").status == 200);
  CHECK(harness.dispatch("POST", "/v1/echo", R"({"a":1})", "Application/JSON").status == 200);

  struct Case {
    std::string body, content_type, code;
    int status;
  };
  for (const auto& c : std::vector<Case>{
           {"{\"a\":", "application/json", "INVALID_ARGUMENT", 400},
           {"[1,2]", "application/json", "INVALID_ARGUMENT", 400},
           {"\"text\"", "application/json", "INVALID_ARGUMENT", 400},
           {std::string("{\"a\":1}\0garbage", 16), "application/json", "INVALID_ARGUMENT", 400},
           {"a=1", "application/x-www-form-urlencoded", "UNSUPPORTED_MEDIA_TYPE", 415},
           {"{\"a\":1}", "text/plain", "UNSUPPORTED_MEDIA_TYPE", 415},
       }) {
    CAPTURE(c.body);
    const auto result = harness.dispatch("POST", "/v1/echo", c.body, c.content_type);
    CHECK(result.status == c.status);
    CHECK(result.body["error"]["code"] == c.code);
    CHECK(result.body["error"]["requestId"] == "req-1");
  }
  const auto empty = harness.dispatch("POST", "/v1/echo");
  CHECK(empty.status == 400);
  CHECK(empty.body["error"]["message"] == "A JSON request body is required.");
}

TEST_CASE("router: path parameters are percent-decoded from the raw target") {
  RouterHarness harness;
  CHECK(harness.dispatch("GET", "/v1/items/%2B999%20482").body["data"]["id"] == "+999 482");
  CHECK(harness.dispatch("GET", "/v1/items/a%2Fb").body["data"]["id"] == "a/b");
  CHECK(harness.dispatch("GET", "/v1/items/a?x=1").body["data"]["id"] == "a");
  CHECK(harness.dispatch("HEAD", "/v1/items/a").status == 200);
  CHECK(harness.dispatch("GET", "/v1/items/%zz").status == 400);
  CHECK(harness.dispatch("GET", "/v1/items/a/b").status == 404);
}

TEST_CASE("router: unknown path is 404, known path with another method is 405 with Allow") {
  RouterHarness harness;
  const auto missing = harness.dispatch("GET", "/v1/nothing");
  CHECK(missing.status == 404);
  CHECK(missing.body["error"]["code"] == "NOT_FOUND");
  const auto wrong = harness.dispatch("PATCH", "/v1/items/1", "{}");
  CHECK(wrong.status == 405);
  CHECK(wrong.response.get_header_value("Allow") == "GET, DELETE");
  CHECK(wrong.body["error"]["code"] == "METHOD_NOT_ALLOWED");
  CHECK(harness.dispatch("DELETE", "/v1/items/1").status == 404);
}

TEST_CASE("router: an exception never reaches the client; storage trouble is 503") {
  RouterHarness harness;
  const auto thrown = harness.dispatch("GET", "/v1/throws");
  CHECK(thrown.status == 500);
  CHECK(thrown.body["error"]["code"] == "INTERNAL");
  CHECK(thrown.raw.find("secret") == std::string::npos);
  CHECK(thrown.raw.find("passwd") == std::string::npos);
  const auto busy = harness.dispatch("GET", "/v1/busy");
  CHECK(busy.status == 503);
  CHECK(busy.body["error"]["code"] == "UNAVAILABLE");
  CHECK(busy.raw.find("secret") == std::string::npos);
  // The operator sees what happened, with the request id to match the client's report.
  REQUIRE(harness.lines().size() == 2);
  CHECK(harness.lines()[0].find("request_id=req-1") != std::string::npos);
  CHECK(harness.lines()[0].find("secret internal detail") != std::string::npos);
}
