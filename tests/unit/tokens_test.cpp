// TokenService without HTTP: the time claims against the injected clock (exp, iat, nbf,
// auth_time, 60 s skew), numeric dates only, and the 8 KiB size cap checked before decoding.
#include "core/tokens.h"

#include <doctest/doctest.h>

#include <functional>

using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct TokenFixture {
  core::ManualClock clock{core::TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 7 / 3) + 14h)};
  core::ServerKey key{core::ServerKey::Bytes{7, 7, 7}};
  core::TokenService tokens{clock, key, core::TokenOptions{}};
  core::Ed25519Jwt signer{key.derive("idtoken")};  // signs like `tokens`, with any claims
  long long now = std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();

  json claims() const {
    return {{"iss", "cobinar-phone"}, {"aud", "cobinar-phone"}, {"sub", "dev-1"}, {"email", "ann@example.com"},
            {"iat", now},             {"exp", now + 3600},       {"auth_time", now}};
  }
  // Signed, padded by a claim to `bytes` bytes or the next length base64url can make.
  std::string token_of_size(std::size_t bytes) const {
    json c = claims();
    const std::size_t unpadded = signer.sign(c).size();
    for (std::size_t pad = (bytes - unpadded) * 3 / 4 - 16;; ++pad) {
      c["pad"] = std::string(pad, 'x');
      std::string token = signer.sign(c);
      if (token.size() >= bytes) return token;
    }
  }
};

}  // namespace

TEST_CASE("tokens: iat, nbf and auth_time may not lie in the future beyond the skew; dates are numbers") {
  TokenFixture f;
  const long long now = f.now;
  struct Row {
    std::string name;
    json changes;  // merged over the valid claims
    bool accepted;
  };
  const std::vector<Row> rows = {
      {"as issued", json::object(), true},
      {"nbf now", {{"nbf", now}}, true},
      {"nbf +30 s, within the skew", {{"nbf", now + 30}}, true},
      {"nbf +60 s, at the skew", {{"nbf", now + 60}}, true},
      {"nbf +61 s", {{"nbf", now + 61}}, false},
      {"nbf +1 h", {{"nbf", now + 3600}}, false},
      {"iat +30 s, within the skew", {{"iat", now + 30}}, true},
      {"iat +1 h", {{"iat", now + 3600}}, false},
      {"auth_time +1 h", {{"auth_time", now + 3600}}, false},
      {"iat as a string", {{"iat", std::to_string(now)}}, false},
      {"nbf as a string", {{"nbf", std::to_string(now)}}, false},
      {"exp as a string", {{"exp", std::to_string(now + 3600)}}, false},
      {"nbf null", {{"nbf", nullptr}}, false},
      {"iat true", {{"iat", true}}, false},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    json claims = f.claims();
    claims.update(row.changes);
    const auto verified = f.tokens.verify(f.signer.sign(claims));
    CHECK(verified.ok() == row.accepted);
    if (!verified.ok()) CHECK(verified.error().code == core::ErrorCode::kUnauthenticated);
  }
}

TEST_CASE("tokens: our own token minted by a clock that runs ahead is refused until its time comes") {
  TokenFixture f;
  struct Row {
    std::string name;
    std::chrono::seconds ahead;
    bool accepted;
  };
  for (const auto& row : std::vector<Row>{{"30 s ahead", 30s, true}, {"61 s ahead", 61s, false}, {"1 h ahead", 1h, false}}) {
    CAPTURE(row.name);
    core::ManualClock fast(f.clock.now() + row.ahead);
    const std::string token = core::TokenService(fast, f.key, {}).issue("dev-1", "ann@example.com", fast.now());
    CHECK(f.tokens.verify(token).ok() == row.accepted);
  }
  core::ManualClock fast(f.clock.now() + 1h);
  const std::string token = core::TokenService(fast, f.key, {}).issue("dev-1", "ann@example.com", fast.now());
  f.clock.advance(1h);
  CHECK(f.tokens.verify(token).ok());
}

TEST_CASE("tokens: more than 8 KiB is refused before any decoding") {
  TokenFixture f;
  struct Row {
    std::string name;
    std::string token;
    bool accepted;
    bool too_long;  // refused for its size alone
  };
  const std::vector<Row> rows = {
      {"8192 bytes, validly signed", f.token_of_size(8192), true, false},
      {"just over 8192 bytes, validly signed", f.token_of_size(8193), false, true},
      {"8192 bytes of garbage", std::string(8192, 'a'), false, false},
      {"8193 bytes of garbage", std::string(8193, 'a'), false, true},
      {"1 MiB of dots", std::string(1 << 20, '.'), false, true},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    CAPTURE(row.token.size());
    CHECK((row.token.size() > core::kMaxIdTokenBytes) == row.too_long);
    const auto verified = f.tokens.verify(row.token);
    CHECK(verified.ok() == row.accepted);
    if (!verified.ok()) CHECK((verified.error().message == "ID token is too long.") == row.too_long);
  }
}
