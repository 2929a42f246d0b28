#include "app/log.h"

#include <doctest/doctest.h>

#include <vector>

namespace {

std::vector<std::string> capture(app::LogFormat format, const std::function<void(app::Log&)>& body) {
  core::ManualClock clock(core::TimePoint(std::chrono::milliseconds(0)));
  std::vector<std::string> lines;
  app::Log log(format, clock, [&](std::string_view line) { lines.emplace_back(line); });
  body(log);
  return lines;
}

}  // namespace

TEST_CASE("text log lines are key=value, quoting values that need it") {
  const auto lines = capture(app::LogFormat::kText, [](app::Log& log) {
    log.info("request", {{"method", "GET"}, {"path", "/v1/a b"}, {"status", 200}});
  });
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "1970-01-01T00:00:00.000Z info request method=GET path=\"/v1/a b\" status=200\n");
}

TEST_CASE("json log lines are one object each") {
  const auto lines = capture(app::LogFormat::kJson, [](app::Log& log) {
    log.error("boom", {{"request_id", "abc"}, {"line", "two\nlines"}});
  });
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].back() == '\n');
  CHECK(lines[0].find('\n') == lines[0].size() - 1);
  const auto object = nlohmann::json::parse(lines[0]);
  CHECK(object["level"] == "error");
  CHECK(object["msg"] == "boom");
  CHECK(object["request_id"] == "abc");
  CHECK(object["line"] == "two\nlines");
  CHECK(object["time"] == "1970-01-01T00:00:00.000Z");
}
