// Two servers on one PostgreSQL database, in-process (skipped on SQLite, where one process
// owns the file): what one node changes, the other sees at once. The multi-process tests of
// several nodes are in tests/e2e/postgres_test.cpp.
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "tests/support/sandbox.h"

namespace {

using json = nlohmann::json;

// A second node on `first`'s database, with its key file.
testing::TestServerOptions second_node(const testing::TestServer& first) {
  const std::string db = first.config().db_path, key = first.config().key_file;
  return {[db, key](app::Config& config) {
            config.db_path = db;
            config.key_file = key;
          },
          nullptr};
}

testing::Exchange send_through(testing::TestServer& server, const testing::AppCredentials& app, const std::string& phone) {
  auto client = server.client();
  return testing::perform(client, "POST", "/v1/otp/send", json{{"phone", phone}}.dump(), "application/json", app.headers());
}

bool on_postgres() {
  if (!testing::test_postgres_url().empty()) return true;
  MESSAGE("PostgreSQL only (COBINAR_TEST_POSTGRES unset)");
  return false;
}

}  // namespace

TEST_CASE("nodes: a rotated or deleted credential is refused by the other node at once (LISTEN/NOTIFY)") {
  if (!on_postgres()) return;
  testing::TestServer a;
  testing::TestServer b(second_node(a));
  testing::Sandbox sandbox(a, "ann@example.com");
  const auto app = sandbox.create_app();
  // B caches the credentials on first use.
  REQUIRE(send_through(b, app, "+999 100 000 001").status == 201);
  const auto rotated = sandbox.console("POST", "/v1/applications/" + app.id + "/rotate/secret", json::object());
  REQUIRE(rotated.status == 200);
  // Notifications arrive within milliseconds; B's cache would otherwise keep the old secret
  // for its TTL (1 s) — the injected clock does not move here, so only the notification can
  // make B forget it.
  int status = 0;
  for (int i = 0; i < 200 && status != 401; ++i) {
    status = send_through(b, app, "+999 100 000 002").status;
    if (status != 401) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(status == 401);
  auto fresh = app;
  fresh.client_secret = rotated.body["data"]["value"];
  CHECK(send_through(b, fresh, "+999 100 000 003").status == 201);
  REQUIRE(sandbox.console("DELETE", "/v1/applications/" + app.id).status == 200);
  status = 0;
  for (int i = 0; i < 200 && status != 401; ++i) {
    status = send_through(b, fresh, "+999 100 000 004").status;
    if (status != 401) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(status == 401);
}

TEST_CASE("nodes: a code sent through one node verifies through the other") {
  if (!on_postgres()) return;
  testing::TestServer a;
  testing::TestServer b(second_node(a));
  testing::Sandbox sandbox(a, "ann@example.com");
  const auto app = sandbox.create_app();
  const auto sent = send_through(a, app, "+999 100 000 005");
  REQUIRE(sent.status == 201);
  auto client = b.client();
  const auto verified = testing::perform(
      client, "POST", "/v1/otp/verify",
      json{{"requestId", sent.body["data"]["requestId"]}, {"code", sent.body["data"]["testCode"]}}.dump(),
      "application/json", app.headers());
  CHECK(verified.status == 200);
  CHECK(verified.body["data"]["status"] == "verified");
}

TEST_CASE("nodes: a node with another key file refuses to start, naming the fix") {
  if (!on_postgres()) return;
  testing::TestServer a;
  testing::TempDir dir;
  const std::string db = a.config().db_path, other_key = dir.file("other.key");
  // Test servers draw their keys from the same seeded randomness: write a different one.
  std::ofstream(other_key) << std::string(64, 'a') << "\n";
  testing::TestServerOptions other{[&](app::Config& config) {
                                     config.db_path = db;
                                     config.key_file = other_key;
                                   },
                                   nullptr};
  CHECK_THROWS_WITH(testing::TestServer{other}, doctest::Contains("every node must use the same key file"));
  // The first node's key still works for a second node.
  testing::TestServer b(second_node(a));
  CHECK(b.port() > 0);
}
