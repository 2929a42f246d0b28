// The HTTP edge: every error in the envelope with x-request-id, whatever produced it.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "tests/support/test_server.h"

using testing::Scenario;

TEST_CASE("the edge answers every kind of bad request in the error envelope") {
  testing::TestServer server;
  const std::string big(64 * 1024 + 1, ' ');
  testing::run_scenarios(server, {
      {"health", "GET", "/v1/health", "", "", {}, 200, ""},
      {"HEAD health", "HEAD", "/v1/health", "", "", {}, 200, ""},
      {"unknown route", "GET", "/v1/nope", "", "", {}, 404, "NOT_FOUND"},
      {"unknown top-level path", "GET", "/nope", "", "", {}, 404, "NOT_FOUND"},
      {"trailing slash", "GET", "/v1/health/", "", "", {}, 404, "NOT_FOUND"},
      {"wrong method", "DELETE", "/v1/health", "", "", {}, 405, "METHOD_NOT_ALLOWED"},
      {"wrong method with body", "POST", "/v1/health", "{}", "application/json", {}, 405, "METHOD_NOT_ALLOWED"},
      {"body over the limit", "POST", "/v1/health", big, "application/json", {}, 413, "PAYLOAD_TOO_LARGE"},
      {"unknown route with a body", "PUT", "/v1/nope", "{}", "application/json", {}, 404, "NOT_FOUND"},
      {"non-JSON body", "GET", "/v1/health", "x=1", "application/x-www-form-urlencoded", {}, 415,
       "UNSUPPORTED_MEDIA_TYPE"},
  });
}

TEST_CASE("405 names the allowed methods") {
  testing::TestServer server;
  auto client = server.client();
  const auto exchange = testing::perform(client, "PATCH", "/v1/health", "{}");
  CHECK(exchange.status == 405);
  CHECK(exchange.headers.find("Allow")->second == "GET");
  CHECK(exchange.body["error"]["details"]["allowed"] == nlohmann::json::array({"GET"}));
}

TEST_CASE("x-request-id is echoed when well-formed and generated otherwise") {
  testing::TestServer server;
  auto client = server.client();
  const auto echoed = testing::perform(client, "GET", "/v1/nope", "", "", {{"x-request-id", "trace-123:abc"}});
  CHECK(echoed.headers.find("x-request-id")->second == "trace-123:abc");
  CHECK(echoed.body["error"]["requestId"] == "trace-123:abc");

  const auto replaced = testing::perform(client, "GET", "/v1/health", "", "", {{"x-request-id", "bad id!"}});
  const std::string generated = replaced.headers.find("x-request-id")->second;
  CHECK(generated != "bad id!");
  CHECK(generated.size() == 24);

  const auto other = testing::perform(client, "GET", "/v1/health");
  CHECK(other.headers.find("x-request-id")->second != generated);
}

TEST_CASE("a malformed HTTP request gets a JSON 400 with a request id") {
  testing::TestServer server;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(server.port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  const std::string garbage = "GET /v1/health HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n";
  REQUIRE(::write(fd, garbage.data(), garbage.size()) == static_cast<ssize_t>(garbage.size()));
  std::string answer;
  char buffer[4096];
  ssize_t n = 0;
  while (answer.find("}}") == std::string::npos && (n = ::read(fd, buffer, sizeof buffer)) > 0) answer.append(buffer, n);
  ::close(fd);
  CHECK(answer.starts_with("HTTP/1.1 400"));
  CHECK(answer.find("x-request-id: ") != std::string::npos);
  const auto body = nlohmann::json::parse(answer.substr(answer.find("\r\n\r\n") + 4));
  CHECK(body["error"]["code"] == "INVALID_ARGUMENT");
  CHECK(body["error"]["requestId"].is_string());
}

TEST_CASE("each request writes one access-log line without credentials or query") {
  testing::TestServer server;
  auto client = server.client();
  testing::perform(client, "GET", "/v1/health?token=supersecret", "", "",
                   {{"Authorization", "Bearer supersecret"}, {"x-request-id", "log-check-1"}});
  // httplib logs after the response is written, so the line may trail the answer briefly.
  std::vector<std::string> request_lines;
  for (int attempt = 0; attempt < 200 && request_lines.empty(); ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (const auto& line : server.log_lines()) {
      if (line.find(" request ") != std::string::npos) request_lines.push_back(line);
    }
  }
  REQUIRE(request_lines.size() == 1);
  const std::string& line = request_lines[0];
  CHECK(line.find("method=GET") != std::string::npos);
  CHECK(line.find("path=/v1/health ") != std::string::npos);
  CHECK(line.find("status=200") != std::string::npos);
  CHECK(line.find("duration_ms=") != std::string::npos);
  CHECK(line.find("request_id=log-check-1") != std::string::npos);
  CHECK(line.find("supersecret") == std::string::npos);
}
