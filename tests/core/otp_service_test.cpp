// The OTP rules driven through core alone: services wired by app::Runtime on a real store,
// no HTTP. Runs on the suite's engine (SQLite, or PostgreSQL with COBINAR_TEST_POSTGRES).
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "app/runtime.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

struct Core {
  testing::TempDir dir;
  std::unique_ptr<testing::TempPostgresDatabase> postgres;
  core::ManualClock clock{core::TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 5 / 4) + 9h)};
  core::SeededRandom random{7};
  app::Config config;
  std::unique_ptr<app::Runtime> runtime;
  core::Developer developer;
  core::Application app;

  explicit Core(int send_limit = 1000) {
    config.db_path = dir.file("core.sqlite");
    if (!testing::test_postgres_url().empty()) {
      postgres = std::make_unique<testing::TempPostgresDatabase>();
      config.db_path = postgres->url();
      config.key_file = dir.file("core.key");
    }
    config.otp.send_rate_limit = send_limit;
    config.otp.verify_rate_limit = 1000;
    config.otp.phone_send_limit = 1000;
    runtime = std::make_unique<app::Runtime>(config, clock, random);
    auto created = runtime->accounts().create_developer({"core@example.com", "", "", std::nullopt, std::string("unlimited")});
    REQUIRE(created.ok());
    developer = created.value();
    auto project = runtime->projects().create(developer, {{"name", "p"}});
    REQUIRE(project.ok());
    auto application = runtime->applications().create(
        developer, {{"name", "a"}, {"projectId", project.value().id}, {"environment", "test"}});
    REQUIRE(application.ok());
    app = application.value().application;
  }
};

}  // namespace

TEST_CASE("core: send then verify, without HTTP; a second verify is refused") {
  Core core;
  auto sent = core.runtime->otp().send(core.app, {{"phone", "+999 100 200 300"}});
  REQUIRE(sent.ok());
  REQUIRE(sent.value().test_code);
  const std::string id = sent.value().request.id;
  auto wrong = core.runtime->otp().verify(core.app, {{"requestId", id}, {"code", *sent.value().test_code == "000000" ? "111111" : "000000"}});
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().code == core::ErrorCode::kInvalidCode);
  auto verified = core.runtime->otp().verify(core.app, {{"requestId", id}, {"code", *sent.value().test_code}});
  REQUIRE(verified.ok());
  CHECK(verified.value().request.status == "verified");
  CHECK(verified.value().request.attempts == 1);
  CHECK(verified.value().receipt);  // the runtime wires the receipt signer
  auto again = core.runtime->otp().verify(core.app, {{"requestId", id}, {"code", *sent.value().test_code}});
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == core::ErrorCode::kOtpAlreadyVerified);
  auto identity = core.runtime->otp().identity(core.developer.id, "+999100200300");
  REQUIRE(identity.ok());
  CHECK(identity.value().verification_count == 1);
}

TEST_CASE("core: parallel verifies of one request: one winner, and wrong codes count at most 5") {
  Core core;
  auto sent = core.runtime->otp().send(core.app, {{"phone", "+999 100 200 301"}});
  REQUIRE(sent.ok());
  const std::string id = sent.value().request.id, code = *sent.value().test_code;
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      if (core.runtime->otp().verify(core.app, {{"requestId", id}, {"code", code}}).ok()) ++winners;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(winners == 1);

  auto other = core.runtime->otp().send(core.app, {{"phone", "+999 100 200 302"}});
  REQUIRE(other.ok());
  const std::string other_id = other.value().request.id;
  const std::string wrong = *other.value().test_code == "000000" ? "111111" : "000000";
  std::atomic<int> counted{0};
  threads.clear();
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&] {
      auto answer = core.runtime->otp().verify(core.app, {{"requestId", other_id}, {"code", wrong}});
      if (!answer.ok() && answer.error().code == core::ErrorCode::kInvalidCode) ++counted;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(counted == 5);
  auto read = core.runtime->otp().get(core.developer, other_id);
  REQUIRE(read.ok());
  CHECK(read.value().attempts == 5);
  CHECK(read.value().status == "failed");
}

TEST_CASE("core: the per-application send limit is exact under parallel sends") {
  Core core(/*send_limit=*/7);
  std::atomic<int> accepted{0}, limited{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 4; ++i) {
        auto sent = core.runtime->otp().send(core.app, {{"phone", "+999 300 000 " + std::to_string(100 + t * 10 + i)}});
        if (sent.ok()) {
          ++accepted;
        } else if (sent.error().code == core::ErrorCode::kRateLimited) {
          ++limited;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(accepted == 7);
  CHECK(limited == 24 - 7);
  core.clock.advance(61s);  // the window slides on: room again
  CHECK(core.runtime->otp().send(core.app, {{"phone", "+999 300 000 999"}}).ok());
}
