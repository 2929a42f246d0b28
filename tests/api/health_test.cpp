#include <doctest/doctest.h>

#include <atomic>

#include "tests/support/test_server.h"

TEST_CASE("health reports operational with service, time and version") {
  testing::TestServer server;
  auto client = server.client();
  const auto exchange = testing::perform(client, "GET", "/v1/health");
  CHECK(exchange.status == 200);
  CHECK(exchange.headers.find("Content-Type")->second == "application/json; charset=utf-8");
  const auto& data = exchange.body["data"];
  CHECK(data == nlohmann::json{{"status", "operational"},
                               {"service", "cobinar-phone-api"},
                               {"time", "2026-07-03T14:22:10.000Z"},
                               {"version", COBINAR_VERSION}});
}

TEST_CASE("health is 503 degraded when the database cannot be read") {
  auto readable = std::make_shared<std::atomic<bool>>(true);
  testing::TestServer server({nullptr, [readable] { return readable->load(); }});
  auto client = server.client();
  CHECK(testing::perform(client, "GET", "/v1/health").status == 200);
  *readable = false;
  const auto exchange = testing::perform(client, "GET", "/v1/health");
  CHECK(exchange.status == 503);
  CHECK(exchange.body["data"]["status"] == "degraded");
  CHECK(exchange.body["data"]["component"] == "store");
  CHECK(exchange.body["data"]["failing"][0]["kind"] == "read_failed");
}
