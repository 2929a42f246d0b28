// Pure rules behind console identity: base64url, JWT decoding, plans, rate limits, phone
// display, field validation.
#include <doctest/doctest.h>

#include "core/jwt.h"
#include "core/phone.h"
#include "core/plans.h"
#include "core/rate_limiter.h"
#include "core/validation.h"

using namespace std::chrono_literals;

TEST_CASE("base64url is unpadded and strict") {
  CHECK(core::base64url_encode("\xfb\xff") == "-_8");
  CHECK(core::base64url_decode("-_8") == std::string("\xfb\xff"));
  CHECK_FALSE(core::base64url_decode("-_8=").has_value());
  CHECK_FALSE(core::base64url_decode("+/8").has_value());
  CHECK_FALSE(core::base64url_decode("a b").has_value());
  CHECK(core::base64url_decode("") == std::string());
}

TEST_CASE("JWT decoding needs three base64url parts of JSON objects") {
  const std::string header = core::base64url_encode(R"({"alg":"EdDSA"})");
  const std::string claims = core::base64url_encode(R"({"sub":"x"})");
  CHECK(core::decode_jwt(header + "." + claims + ".").has_value());
  CHECK_FALSE(core::decode_jwt(header + "." + claims).has_value());
  CHECK_FALSE(core::decode_jwt(header + "." + claims + ".." ).has_value());
  CHECK_FALSE(core::decode_jwt(core::base64url_encode("[1]") + "." + claims + ".").has_value());
  CHECK_FALSE(core::decode_jwt(header + "." + core::base64url_encode("not json") + ".").has_value());
}

TEST_CASE("Ed25519 tokens verify only with the same key and unchanged content") {
  core::ServerKey::Bytes seed{};
  seed.fill(1);
  core::Ed25519Jwt signer(seed);
  seed.fill(2);
  core::Ed25519Jwt other(seed);
  const std::string token = signer.sign({{"sub", "a"}});
  CHECK(signer.verify(*core::decode_jwt(token)));
  CHECK_FALSE(other.verify(*core::decode_jwt(token)));
  auto changed = *core::decode_jwt(token);
  changed.signing_input += "x";
  CHECK_FALSE(signer.verify(changed));
}

TEST_CASE("plans: defaults, operator definitions and bad input") {
  auto catalog = core::PlanCatalog::create({"team:50:20", "free:3:unlimited"}, "free");
  REQUIRE(catalog.ok());
  CHECK(catalog.value().find("team")->max_projects == 50);
  CHECK(catalog.value().find("free")->max_projects == 3);
  CHECK_FALSE(catalog.value().find("free")->max_applications.has_value());
  CHECK_FALSE(catalog.value().find("unlimited")->max_projects.has_value());
  CHECK(catalog.value().find("gold") == nullptr);
  for (const char* bad : {"team", "team:1", "team:x:1", "team:1:-1", ":1:1", "te am:1:1"}) {
    CAPTURE(bad);
    CHECK_FALSE(core::PlanCatalog::create({bad}, "free").ok());
  }
  CHECK_FALSE(core::PlanCatalog::create({}, "gold").ok());
}

TEST_CASE("the rate limiter allows `limit` per window and says how long to wait") {
  core::ManualClock clock(core::TimePoint(0ms));
  core::RateLimiter limiter(clock, 2, 60s);
  CHECK_FALSE(limiter.acquire("a").has_value());
  clock.advance(10s);
  CHECK_FALSE(limiter.acquire("a").has_value());
  CHECK(limiter.acquire("a") == 50s);
  CHECK_FALSE(limiter.acquire("b").has_value());  // keys are independent
  clock.advance(50s);
  CHECK_FALSE(limiter.acquire("a").has_value());  // the first event left the window
  CHECK(limiter.acquire("a") == 10s);
  clock.advance(9500ms);
  CHECK(limiter.acquire("a") == 1s);  // rounded up, never 0
}

TEST_CASE("the rate limiter forgets keys whose events left the window, and release takes one back") {
  core::ManualClock clock(core::TimePoint(0ms));
  core::RateLimiter limiter(clock, 1, 600s);
  for (int i = 0; i < 1000; ++i) CHECK_FALSE(limiter.acquire("+999" + std::to_string(i)).has_value());
  CHECK(limiter.tracked_keys() == 1000);
  CHECK(limiter.acquire("+9990") == 600s);
  clock.advance(300s);
  CHECK_FALSE(limiter.acquire("late").has_value());
  CHECK(limiter.tracked_keys() == 1001);
  clock.advance(300s);  // the first thousand are 600 s old now
  CHECK(limiter.tracked_keys() == 1);
  CHECK_FALSE(limiter.acquire("+9990").has_value());
  limiter.release("+9990");
  CHECK_FALSE(limiter.acquire("+9990").has_value());
  CHECK(limiter.acquire("+9990") == 600s);

  core::RateLimiter busy(clock, 100000, 60s);  // one key with many events keeps exact counts
  for (int i = 0; i < 5000; ++i) {
    CHECK_FALSE(busy.acquire("app").has_value());
    clock.advance(10ms);
  }
  clock.advance(19990ms);  // now 69.99 s: the first 1,000 events (0 to 9.99 s) left the window
  int allowed = 0;
  while (!busy.acquire("app").has_value()) ++allowed;
  CHECK(allowed == 100000 - 4000);
}

TEST_CASE("phone numbers normalise to E.164 and display in their region's international format") {
  CHECK(core::normalize_phone("+999 482 918 102") == "+999482918102");
  CHECK(core::normalize_phone("+1 (415) 555-2671") == "+14155552671");
  CHECK(core::normalize_phone("+44.20.7946.0958") == "+442079460958");
  CHECK(core::normalize_phone("+44 (0) 7911 123456") == "+447911123456");
  CHECK(core::normalize_phone("07911 123456", "GB") == "+447911123456");
  for (const char* bad : {"999482918102", "+12345", "+1234567890123456", "+0123456789", "+1 415 CALL NOW", "++14155552671",
                          "07911 123456"}) {
    CAPTURE(bad);
    CHECK_FALSE(core::normalize_phone(bad).has_value());
  }
  CHECK(core::display_phone("+999482918102") == "+999 482 918 102");
  CHECK(core::display_phone("+14155552671") == "+1 415-555-2671");
  CHECK(core::display_phone("+442079460958") == "+44 20 7946 0958");
  CHECK(core::display_phone("+4915112345678") == "+49 1511 2345678");
  CHECK(core::display_phone("+79161234567") == "+7 916 123-45-67");
  CHECK(core::display_phone("+390612345678") == "+39 06 1234 5678");
}

TEST_CASE("field validation reports every problem, counting characters not bytes") {
  const auto body = nlohmann::json::parse(R"({"a":"","b":5,"c":"\u00fc\u00fc","d":"x\u0001"})");
  core::FieldReader fields(body);
  CHECK_FALSE(fields.required_string("a", 1, 10).has_value());
  CHECK_FALSE(fields.optional_string("b", 0, 10).has_value());
  CHECK(fields.optional_string("c", 0, 2) == "\xc3\xbc\xc3\xbc");
  CHECK_FALSE(fields.optional_string("d", 0, 10).has_value());
  CHECK_FALSE(fields.required_string("missing", 0, 10).has_value());
  CHECK_FALSE(fields.optional_string("absent", 0, 10).has_value());
  const auto error = fields.error();
  CHECK(error.code == core::ErrorCode::kInvalidArgument);
  CHECK(error.details["fields"].size() == 4);
  CHECK(core::is_plausible_email("a@b.co"));
  CHECK_FALSE(core::is_plausible_email("a@b"));
  CHECK_FALSE(core::is_plausible_email("a b@c.de"));
  CHECK_FALSE(core::is_plausible_email("@c.de"));
}
