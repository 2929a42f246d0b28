// Sign-in paths of accounts kept by the server, the console guard's rejections, and the profile.
#include <doctest/doctest.h>

#include <regex>
#include <set>

#include "core/tokens.h"
#include "storage/sqlite/connection.h"
#include "storage/developers.h"
#include "storage/key_file.h"
#include "tests/support/test_server.h"
#include "tests/support/tokens.h"

using namespace std::chrono_literals;
using nlohmann::json;
using testing::perform;

namespace {

testing::TestServerOptions open_signup(int login_limit = 10) {
  return {[login_limit](app::Config& config) {
            config.accounts.signup_open = true;
            config.accounts.login_rate_limit = login_limit;
          },
          nullptr};
}

json signup(httplib::Client& client, const std::string& email, const std::string& password = "correct horse battery") {
  const auto exchange = perform(client, "POST", "/v1/auth/signup", json{{"email", email}, {"password", password}}.dump());
  REQUIRE_MESSAGE(exchange.status == 201, exchange.raw_body);
  return exchange.body["data"];
}

long long unix_seconds(const testing::TestServer& server, core::ManualClock& clock) {
  (void)server;
  return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
}

// A token signed like the server's own, padded by a claim to `bytes` bytes or the next length
// base64url can make (it skips every fourth).
std::string local_token_of_size(const core::Ed25519Jwt& signer, json claims, std::size_t bytes) {
  const std::size_t unpadded = signer.sign(claims).size();
  for (std::size_t pad = (bytes - unpadded) * 3 / 4 - 16;; ++pad) {
    claims["pad"] = std::string(pad, 'x');
    std::string token = signer.sign(claims);
    if (token.size() >= bytes) return token;
  }
}

// An ID token issued by the server's own token code, with its key, on a clock `ahead` of the server's.
std::string issued_ahead(testing::TestServer& server, const std::string& developer_id, std::chrono::seconds ahead) {
  const core::ManualClock fast(server.clock().now() + ahead);
  const core::ServerKey key(storage::load_or_create_key_file(server.config().key_file_path(), {}));
  return core::TokenService(fast, key, server.config().tokens).issue(developer_id, "ann@example.com", fast.now());
}

}  // namespace

TEST_CASE("signup is refused while sign-up is closed (the default)") {
  testing::TestServer server;
  auto client = server.client();
  const auto exchange =
      perform(client, "POST", "/v1/auth/signup", R"({"email":"a@example.com","password":"correct horse battery"})");
  CHECK(exchange.status == 403);
  CHECK(exchange.body["error"]["code"] == "FORBIDDEN");
}

TEST_CASE("signup creates a developer and a session; the id token opens the console") {
  testing::TestServer server(open_signup());
  auto client = server.client();
  const auto exchange = perform(client, "POST", "/v1/auth/signup",
                                R"({"email":"Ann@Example.com","password":"correct horse battery","name":"Ann","company":"Acme"})");
  REQUIRE(exchange.status == 201);
  const auto& data = exchange.body["data"];
  CHECK(data["expiresIn"] == 3600);
  CHECK(data["refreshToken"].get<std::string>().starts_with("cbrt_"));
  const auto& developer = data["developer"];
  CHECK(developer["email"] == "Ann@Example.com");
  CHECK(developer["name"] == "Ann");
  CHECK(developer["company"] == "Acme");
  CHECK(developer["plan"] == "free");
  CHECK(std::regex_match(developer["virtualPhoneNumber"].get<std::string>(), std::regex(R"(\+999 \d{3} \d{3} \d{3})")));
  CHECK(developer["createdAt"] == "2026-07-03T14:22:10.000Z");

  const auto me = perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(data["idToken"]));
  CHECK(me.status == 200);
  CHECK(me.body["data"] == developer);

  // The token's claims are the SPEC's.
  const auto decoded = core::decode_jwt(data["idToken"].get<std::string>());
  REQUIRE(decoded);
  CHECK(decoded->header["alg"] == "EdDSA");
  CHECK(decoded->claims["iss"] == "cobinar-phone");
  CHECK(decoded->claims["aud"] == "cobinar-phone");
  CHECK(decoded->claims["sub"] == developer["id"]);
  CHECK(decoded->claims["email"] == "Ann@Example.com");
  CHECK(decoded->claims["exp"].get<long long>() - decoded->claims["iat"].get<long long>() == 3600);
  CHECK(decoded->claims.contains("auth_time"));
}

TEST_CASE("signup validates every field at once and refuses a duplicate email in any case") {
  testing::TestServer server(open_signup());
  auto client = server.client();
  const auto invalid = perform(client, "POST", "/v1/auth/signup", R"({"email":"not-an-email","password":"short","name":7})");
  CHECK(invalid.status == 400);
  const auto& fields = invalid.body["error"]["details"]["fields"];
  CHECK(fields.contains("email"));
  CHECK(fields.contains("password"));
  CHECK(fields.contains("name"));

  signup(client, "dup@example.com");
  const auto duplicate = perform(client, "POST", "/v1/auth/signup",
                                 R"({"email":"DUP@example.COM","password":"correct horse battery"})");
  CHECK(duplicate.status == 409);
  CHECK(duplicate.body["error"]["code"] == "CONFLICT");

  testing::run_scenarios(server, {
      {"malformed JSON", "POST", "/v1/auth/signup", "{", "application/json", {}, 400, "INVALID_ARGUMENT"},
      {"array body", "POST", "/v1/auth/signup", "[]", "application/json", {}, 400, "INVALID_ARGUMENT"},
      {"form body", "POST", "/v1/auth/signup", "a=b", "application/x-www-form-urlencoded", {}, 415,
       "UNSUPPORTED_MEDIA_TYPE"},
      {"empty body", "POST", "/v1/auth/login", "", "", {}, 400, "INVALID_ARGUMENT"},
      {"GET on login", "GET", "/v1/auth/login", "", "", {}, 405, "METHOD_NOT_ALLOWED"},
  });
}

TEST_CASE("login: right password signs in; wrong password and unknown email look the same") {
  testing::TestServer server(open_signup());
  auto client = server.client();
  signup(client, "ann@example.com");

  const auto ok = perform(client, "POST", "/v1/auth/login", R"({"email":"ANN@example.com","password":"correct horse battery"})");
  CHECK(ok.status == 200);
  CHECK(ok.body["data"]["developer"]["email"] == "ann@example.com");

  const auto wrong = perform(client, "POST", "/v1/auth/login", R"({"email":"ann@example.com","password":"wrong password!"})");
  const auto unknown = perform(client, "POST", "/v1/auth/login", R"({"email":"nobody@example.com","password":"wrong password!"})");
  CHECK(wrong.status == 401);
  CHECK(unknown.status == 401);
  json a = wrong.body, b = unknown.body;
  a["error"].erase("requestId");
  b["error"].erase("requestId");
  CHECK(a == b);
}

TEST_CASE("login is rate-limited per email and per client address, with Retry-After") {
  testing::TestServer server(open_signup(3));
  auto client = server.client();
  signup(client, "ann@example.com");
  const std::string wrong = R"({"email":"ann@example.com","password":"wrong password!"})";
  for (int i = 0; i < 3; ++i) CHECK(perform(client, "POST", "/v1/auth/login", wrong).status == 401);
  const auto limited = perform(client, "POST", "/v1/auth/login", wrong);
  CHECK(limited.status == 429);
  CHECK(limited.body["error"]["code"] == "RATE_LIMITED");
  CHECK(limited.headers.find("Retry-After")->second == "900");
  CHECK(limited.body["error"]["details"]["retryAfter"] == 900);
  // Even the right password waits: the limit counts attempts, not failures.
  CHECK(perform(client, "POST", "/v1/auth/login", R"({"email":"ann@example.com","password":"correct horse battery"})")
            .status == 429);

  server.clock().advance(10min);
  CHECK(perform(client, "POST", "/v1/auth/login", wrong).headers.find("Retry-After")->second == "300");
  server.clock().advance(5min + 1s);
  CHECK(perform(client, "POST", "/v1/auth/login", R"({"email":"ann@example.com","password":"correct horse battery"})")
            .status == 200);

  // Per address: other emails from the same client are limited too.
  server.clock().advance(16min);
  for (int i = 0; i < 3; ++i) {
    perform(client, "POST", "/v1/auth/login", json{{"email", "x" + std::to_string(i) + "@example.com"}, {"password", "p"}}.dump());
  }
  CHECK(perform(client, "POST", "/v1/auth/login", R"({"email":"y@example.com","password":"p"})").status == 429);
}

TEST_CASE("refresh rotates: the new pair works, the used token is dead, and replaying it ends the session") {
  testing::TestServer server(open_signup());
  auto client = server.client();
  const json first = signup(client, "ann@example.com");

  server.clock().advance(1min);
  const auto rotated = perform(client, "POST", "/v1/auth/refresh", json{{"refreshToken", first["refreshToken"]}}.dump());
  REQUIRE(rotated.status == 200);
  const json second = rotated.body["data"];
  CHECK(second["refreshToken"] != first["refreshToken"]);
  CHECK(second["idToken"] != first["idToken"]);
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(second["idToken"])).status == 200);
  // auth_time stays the time of the sign-in, not of the refresh.
  CHECK(core::decode_jwt(second["idToken"].get<std::string>())->claims["auth_time"] ==
        core::decode_jwt(first["idToken"].get<std::string>())->claims["auth_time"]);

  const auto replay = perform(client, "POST", "/v1/auth/refresh", json{{"refreshToken", first["refreshToken"]}}.dump());
  CHECK(replay.status == 401);
  // The replay revoked the family: the second token no longer works either.
  CHECK(perform(client, "POST", "/v1/auth/refresh", json{{"refreshToken", second["refreshToken"]}}.dump()).status == 401);

  CHECK(perform(client, "POST", "/v1/auth/refresh", R"({"refreshToken":"cbrt_unknown"})").status == 401);
  CHECK(perform(client, "POST", "/v1/auth/refresh", R"({"refreshToken":5})").status == 400);
}

TEST_CASE("refresh tokens expire after 30 days") {
  testing::TestServer server(open_signup());
  auto client = server.client();
  const json session = signup(client, "ann@example.com");
  server.clock().advance(std::chrono::hours(24 * 30) + 1s);
  CHECK(perform(client, "POST", "/v1/auth/refresh", json{{"refreshToken", session["refreshToken"]}}.dump()).status == 401);
}

TEST_CASE("logout revokes the refresh token; it is idempotent") {
  testing::TestServer server(open_signup());
  auto client = server.client();
  const json session = signup(client, "ann@example.com");
  const std::string body = json{{"refreshToken", session["refreshToken"]}}.dump();
  const auto out = perform(client, "POST", "/v1/auth/logout", body);
  CHECK(out.status == 200);
  CHECK(out.body["data"]["loggedOut"] == true);
  CHECK(perform(client, "POST", "/v1/auth/refresh", body).status == 401);
  CHECK(perform(client, "POST", "/v1/auth/logout", body).status == 200);
  CHECK(perform(client, "POST", "/v1/auth/logout", "{}").status == 400);
}

TEST_CASE("the console guard rejects every bad token with 401") {
  testing::TestServer server;
  auto client = server.client();
  const std::string valid = server.create_developer("ann@example.com");
  const auto claims = core::decode_jwt(valid)->claims;
  const auto signer = testing::local_signer(server.config().key_file_path());
  const auto sign_ed25519 = [&](const json& c) { return signer.sign(c); };
  const long long now = unix_seconds(server, server.clock());

  auto with = [&](const char* key, json value) {
    json c = claims;
    c[key] = std::move(value);
    return sign_ed25519(c);
  };
  std::string tampered = valid;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  const std::string payload = valid.substr(valid.find('.') + 1, valid.rfind('.') - valid.find('.') - 1);
  const std::string developer_id = claims["sub"];

  const std::vector<std::pair<std::string, httplib::Headers>> cases = {
      {"no header", {}},
      {"not bearer", {{"Authorization", "Basic " + valid}}},
      {"empty bearer", {{"Authorization", "Bearer "}}},
      {"two parts", testing::bearer(valid.substr(0, valid.rfind('.')))},
      {"four parts", testing::bearer(valid + ".x")},
      {"bad base64url", testing::bearer("!!!." + payload + ".abc")},
      {"alg none", testing::bearer(testing::make_jwt({{"alg", "none"}, {"typ", "JWT"}}, claims,
                                                     [](const std::string&) { return std::string(); }))},
      {"HS256", testing::bearer(testing::make_jwt({{"alg", "HS256"}, {"typ", "JWT"}}, claims,
                                                  [](const std::string&) { return std::string(32, 'k'); }))},
      {"RS256 header on our issuer", testing::bearer(testing::make_jwt(
                                         {{"alg", "RS256"}, {"typ", "JWT"}}, claims,
                                         [](const std::string&) { return std::string(256, 's'); }))},
      {"bad signature", testing::bearer(tampered)},
      {"wrong iss", testing::bearer(with("iss", "someone-else"))},
      {"wrong aud", testing::bearer(with("aud", "someone-else"))},
      {"expired", testing::bearer(with("exp", now - 61))},
      {"issued in the future", testing::bearer(with("iat", now + 120))},
      {"no exp", testing::bearer([&] { json c = claims; c.erase("exp"); return sign_ed25519(c); }())},
      {"nbf an hour ahead", testing::bearer(with("nbf", now + 3600))},
      {"nbf as a string", testing::bearer(with("nbf", std::to_string(now)))},
      {"iat as a string", testing::bearer(with("iat", std::to_string(now)))},
      {"exp as a string", testing::bearer(with("exp", std::to_string(now + 3600)))},
      {"issued by a clock an hour ahead", testing::bearer(issued_ahead(server, developer_id, 1h))},
      {"over 8 KiB, validly signed", testing::bearer(local_token_of_size(signer, claims, 8193))},
      {"8192 bytes of garbage", testing::bearer(std::string(8192, 'e'))},
      {"8193 bytes of garbage", testing::bearer(std::string(8193, 'e'))},
      {"unknown developer", testing::bearer(with("sub", "01900000-0000-7000-8000-000000000000"))},
  };
  for (const auto& [name, headers] : cases) {
    CAPTURE(name);
    const auto exchange = perform(client, "GET", "/v1/developer/me", "", "", headers);
    CHECK(exchange.status == 401);
    CHECK(exchange.body["error"]["code"] == "UNAUTHENTICATED");
    const auto challenge = exchange.headers.find("WWW-Authenticate");
    CHECK((challenge != exchange.headers.end() && challenge->second == "Bearer"));
  }

  // Within the 60 s skew a just-expired token still works, as do one not valid for another 30 s
  // and one issued 30 s ahead; a validly signed token of exactly 8 KiB works; the valid one works.
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(with("exp", now - 30))).status == 200);
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(with("nbf", now + 30))).status == 200);
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(issued_ahead(server, developer_id, 30s)))
            .status == 200);
  CHECK(perform(client, "GET", "/v1/developer/me", "", "",
                testing::bearer(local_token_of_size(signer, claims, core::kMaxIdTokenBytes)))
            .status == 200);
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(valid)).status == 200);
  server.clock().advance(1h + 61s);
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(valid)).status == 401);
}

TEST_CASE("the console guard takes exactly one Authorization header; an oversized token is a JSON 401") {
  testing::TestServer server;
  const std::string auth = "Bearer " + server.create_developer("one@example.com");
  testing::run_scenarios(server, {
      {"one header", "GET", "/v1/developer/me", "", "", {{"Authorization", auth}}, 200, ""},
      {"the same header twice", "GET", "/v1/developer/me", "", "", {{"Authorization", auth}, {"Authorization", auth}},
       400, "INVALID_ARGUMENT"},
      {"names differing in case", "GET", "/v1/developer/me", "", "", {{"Authorization", auth}, {"authorization", auth}},
       400, "INVALID_ARGUMENT"},
      {"a bad token, then a good one", "GET", "/v1/developer/me", "", "",
       {{"Authorization", "Bearer nonsense"}, {"Authorization", auth}}, 400, "INVALID_ARGUMENT"},
      {"8193-byte token", "GET", "/v1/developer/me", "", "", testing::bearer(std::string(8193, 'e')), 401,
       "UNAUTHENTICATED"},
  });
}

TEST_CASE("a token of a deleted developer stops working") {
  testing::TestServer server;
  auto client = server.client();
  const std::string token = server.create_developer("gone@example.com");
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(token)).status == 200);
  const std::string id = core::decode_jwt(token)->claims["sub"];
  server.application().database().write([&](storage::Connection& c) { storage::developers::remove(c, id); });
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(token)).status == 401);
}

TEST_CASE("a disabled developer gets 401 on every console endpoint, refresh and login; enabling restores access") {
  testing::TestServer server(open_signup());
  auto client = server.client();
  const json session = signup(client, "ann@example.com");
  const auto auth = testing::bearer(session["idToken"]);
  const std::string project_id =
      perform(client, "POST", "/v1/projects", R"({"name":"p"})", "application/json", auth).body["data"]["id"];
  auto& accounts = server.application().runtime().accounts();

  const auto disabled = accounts.set_disabled("ANN@example.com", true);
  REQUIRE(disabled.ok());
  CHECK(disabled.value().disabled_at == "2026-07-03T14:22:10.000Z");
  const std::string login = R"({"email":"ann@example.com","password":"correct horse battery"})";
  const std::string refresh = json{{"refreshToken", session["refreshToken"]}}.dump();
  testing::run_scenarios(server, {
      {"profile", "GET", "/v1/developer/me", "", "", auth, 401, "UNAUTHENTICATED"},
      {"profile update", "PATCH", "/v1/developer/me", R"({"name":"x"})", "application/json", auth, 401, "UNAUTHENTICATED"},
      {"projects", "GET", "/v1/projects", "", "", auth, 401, "UNAUTHENTICATED"},
      {"new project", "POST", "/v1/projects", R"({"name":"q"})", "application/json", auth, 401, "UNAUTHENTICATED"},
      {"a project", "GET", "/v1/projects/" + project_id, "", "", auth, 401, "UNAUTHENTICATED"},
      {"applications", "GET", "/v1/applications", "", "", auth, 401, "UNAUTHENTICATED"},
      {"analytics", "GET", "/v1/analytics/summary", "", "", auth, 401, "UNAUTHENTICATED"},
      {"webhooks", "GET", "/v1/webhooks", "", "", auth, 401, "UNAUTHENTICATED"},
      {"refresh", "POST", "/v1/auth/refresh", refresh, "application/json", {}, 401, "UNAUTHENTICATED"},
      {"login with the right password", "POST", "/v1/auth/login", login, "application/json", {}, 401, "UNAUTHENTICATED"},
  });
  const auto refused = perform(client, "GET", "/v1/developer/me", "", "", auth);
  CHECK(refused.body["error"]["message"] == "This account is disabled; ask the operator.");
  CHECK(perform(client, "POST", "/v1/auth/login", login).body["error"]["message"] ==
        "This account is disabled; ask the operator.");
  CHECK_FALSE(accounts.issue_token("ann@example.com").ok());
  CHECK(accounts.list_developers().at(0).disabled_at.has_value());

  // Disabling twice keeps the first time.
  server.clock().advance(1min);
  CHECK(accounts.set_disabled("ann@example.com", true).value().disabled_at == "2026-07-03T14:22:10.000Z");

  REQUIRE(accounts.set_disabled("ann@example.com", false).ok());
  CHECK_FALSE(accounts.list_developers().at(0).disabled_at.has_value());
  testing::run_scenarios(server, {
      {"profile again", "GET", "/v1/developer/me", "", "", auth, 200, ""},
      {"projects again", "GET", "/v1/projects", "", "", auth, 200, ""},
      // Disabling ended the sessions: the old refresh token stays dead, a new login works.
      {"the old refresh token", "POST", "/v1/auth/refresh", refresh, "application/json", {}, 401, "UNAUTHENTICATED"},
      {"login", "POST", "/v1/auth/login", login, "application/json", {}, 200, ""},
  });

  CHECK(accounts.set_disabled("nobody@example.com", true).error().code == core::ErrorCode::kNotFound);
}

TEST_CASE("reset-password: the new password signs in, the old one does not, and every refresh token is revoked") {
  testing::TestServer server(open_signup());
  auto client = server.client();
  const json first = signup(client, "ann@example.com");
  const auto second = perform(client, "POST", "/v1/auth/login", R"({"email":"ann@example.com","password":"correct horse battery"})");
  REQUIRE(second.status == 200);
  auto& accounts = server.application().runtime().accounts();

  CHECK(accounts.reset_password("ann@example.com", "too short").error().code == core::ErrorCode::kInvalidArgument);
  CHECK(accounts.reset_password("nobody@example.com", "a new long password").error().code == core::ErrorCode::kNotFound);
  REQUIRE(accounts.reset_password("Ann@Example.com", "a new long password").ok());

  testing::run_scenarios(server, {
      {"first session's refresh token", "POST", "/v1/auth/refresh", json{{"refreshToken", first["refreshToken"]}}.dump(),
       "application/json", {}, 401, "UNAUTHENTICATED"},
      {"second session's refresh token", "POST", "/v1/auth/refresh",
       json{{"refreshToken", second.body["data"]["refreshToken"]}}.dump(), "application/json", {}, 401, "UNAUTHENTICATED"},
      {"old password", "POST", "/v1/auth/login", R"({"email":"ann@example.com","password":"correct horse battery"})",
       "application/json", {}, 401, "UNAUTHENTICATED"},
      {"new password", "POST", "/v1/auth/login", R"({"email":"ann@example.com","password":"a new long password"})",
       "application/json", {}, 200, ""},
  });
}

TEST_CASE("profile: name and company change; plan, virtual number and bad values are refused") {
  testing::TestServer server;
  auto client = server.client();
  const auto auth = testing::bearer(server.create_developer("ann@example.com"));
  const json before = perform(client, "GET", "/v1/developer/me", "", "", auth).body["data"];

  server.clock().advance(1s);
  const auto patched = perform(client, "PATCH", "/v1/developer/me", R"({"name":"Ann Lee","company":"Acme","extra":1})", "application/json", auth);
  REQUIRE(patched.status == 200);
  CHECK(patched.body["data"]["name"] == "Ann Lee");
  CHECK(patched.body["data"]["company"] == "Acme");
  CHECK(patched.body["data"]["updatedAt"] == "2026-07-03T14:22:11.000Z");
  CHECK(patched.body["data"]["createdAt"] == before["createdAt"]);
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", auth).body["data"] == patched.body["data"]);

  struct Case {
    std::string body, field;
  };
  for (const auto& c : std::vector<Case>{{R"({"plan":"unlimited"})", "plan"},
                                         {R"({"virtualPhoneNumber":"+999 000 000 000"})", "virtualPhoneNumber"},
                                         {R"({"name":"x","plan":"free"})", "plan"},
                                         {"{\"name\":\"" + std::string(101, 'n') + "\"}", "name"},
                                         {R"({"company":null})", "company"},
                                         {R"({"name":["a"]})", "name"}}) {
    CAPTURE(c.body);
    const auto refused = perform(client, "PATCH", "/v1/developer/me", c.body, "application/json", auth);
    CHECK(refused.status == 400);
    CHECK(refused.body["error"]["details"]["fields"].contains(c.field));
  }
  // 100 characters (not bytes) is the limit.
  std::string hundred_umlauts;
  for (int i = 0; i < 100; ++i) hundred_umlauts += "\xc3\xbc";
  CHECK(perform(client, "PATCH", "/v1/developer/me", json{{"name", hundred_umlauts}}.dump(), "application/json", auth).status == 200);
  const json after = perform(client, "GET", "/v1/developer/me", "", "", auth).body["data"];
  CHECK(after["plan"] == "free");
  CHECK(after["virtualPhoneNumber"] == before["virtualPhoneNumber"]);
  CHECK(perform(client, "PATCH", "/v1/developer/me", R"({"name":"x"})").status == 401);
}

TEST_CASE("every developer gets a different virtual number") {
  testing::TestServer server;
  auto client = server.client();
  std::set<std::string> numbers;
  for (int i = 0; i < 20; ++i) {
    const auto auth = testing::bearer(server.create_developer("dev" + std::to_string(i) + "@example.com"));
    numbers.insert(perform(client, "GET", "/v1/developer/me", "", "", auth).body["data"]["virtualPhoneNumber"]);
  }
  CHECK(numbers.size() == 20);
}

TEST_CASE("plans: operator-defined plans and the default plan") {
  testing::TestServer server({[](app::Config& config) {
                                config.plans = {"team:50:20"};
                                config.default_plan = "team";
                              },
                              nullptr});
  auto client = server.client();
  const auto auth = testing::bearer(server.create_developer("ann@example.com"));
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", auth).body["data"]["plan"] == "team");
  auto& accounts = server.application().runtime().accounts();
  CHECK(accounts.set_plan("ann@example.com", "unlimited").ok());
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", auth).body["data"]["plan"] == "unlimited");
  CHECK_FALSE(accounts.set_plan("ann@example.com", "platinum").ok());

  CHECK_THROWS_AS(testing::TestServer({[](app::Config& config) { config.default_plan = "platinum"; }, nullptr}),
                  app::http::StartupError);
  CHECK_THROWS_AS(testing::TestServer({[](app::Config& config) { config.plans = {"broken"}; }, nullptr}),
                  app::http::StartupError);
}
