// Firebase ID tokens: RS256 against the operator's certificate file, Firebase's claim rules,
// first-sight account creation, and key rotation without a restart.
#include <doctest/doctest.h>

#include "tests/support/test_server.h"
#include "tests/support/tokens.h"

using namespace std::chrono_literals;
using nlohmann::json;
using testing::perform;

namespace {

constexpr char kProject[] = "cobinar-test";

struct FirebaseFixture {
  testing::TempDir dir;
  std::string certs = dir.file("certs.json");
  testing::RsaTestKey key;
  testing::RsaTestKey other_key;

  FirebaseFixture() { write_certs({{"kid-1", key.certificate_pem()}}); }
  void write_certs(const json& document) {
    // Written to a new file and renamed over the old one, as an operator's fetch script would.
    testing::write_file(certs + ".tmp", document.dump());
    std::filesystem::rename(certs + ".tmp", certs);
  }
  testing::TestServerOptions options() const {
    return {[path = certs](app::Config& config) {
              config.tokens.firebase_project_id = kProject;
              config.tokens.firebase_certs_path = path;
            },
            nullptr};
  }
};

json claims_at(const testing::TestServer& server, core::ManualClock& clock, const std::string& uid) {
  (void)server;
  const long long now = std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
  return {{"iss", std::string("https://securetoken.google.com/") + kProject},
          {"aud", kProject},
          {"sub", uid},
          {"user_id", uid},
          {"email", uid + "@firebase.example.com"},
          {"email_verified", true},
          {"name", "Fire " + uid},
          {"iat", now - 10},
          {"exp", now + 3600},
          {"auth_time", now - 20}};
}

// A token signed by `key` as kid-1 of exactly `bytes` bytes: padding in a claim, and in the
// header when base64url cannot reach that length from the claims alone.
std::string sized_token(const testing::RsaTestKey& key, json claims, std::size_t bytes) {
  const std::size_t signature_chars = core::base64url_encode(key.sign("x")).size();
  for (std::size_t header_pad = 0; header_pad < 3; ++header_pad) {
    const json header = {{"alg", "RS256"}, {"kid", "kid-1"}, {"typ", "JWT"}, {"pad", std::string(header_pad, 'x')}};
    for (std::size_t pad = 0; pad < bytes; ++pad) {
      claims["pad"] = std::string(pad, 'x');
      const std::size_t size = core::base64url_encode(header.dump()).size() + 1 +
                               core::base64url_encode(claims.dump()).size() + 1 + signature_chars;
      if (size == bytes) return testing::make_jwt(header, claims, [&](const std::string& in) { return key.sign(in); });
      if (size > bytes) break;
    }
  }
  FAIL((std::string("no token of ") + std::to_string(bytes) + " bytes"));
  return {};
}

}  // namespace

TEST_CASE("a valid Firebase token creates the developer on first sight, then finds it") {
  FirebaseFixture fixture;
  testing::TestServer server(fixture.options());
  auto client = server.client();
  const std::string token = fixture.key.token("kid-1", claims_at(server, server.clock(), "uid-1"));
  const auto first = perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(token));
  REQUIRE_MESSAGE(first.status == 200, first.raw_body);
  CHECK(first.body["data"]["email"] == "uid-1@firebase.example.com");
  CHECK(first.body["data"]["name"] == "Fire uid-1");
  CHECK(first.body["data"]["plan"] == "free");
  const auto second = perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(token));
  CHECK(second.body["data"]["id"] == first.body["data"]["id"]);

  // Our own tokens keep working beside Firebase's.
  const std::string local = server.create_developer("local@example.com");
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(local)).status == 200);
}

TEST_CASE("Firebase tokens that break any documented rule are 401") {
  FirebaseFixture fixture;
  testing::TestServer server(fixture.options());
  auto client = server.client();
  const json good = claims_at(server, server.clock(), "uid-2");
  const long long now = good["iat"].get<long long>() + 10;
  auto with = [&](const char* key, json value) {
    json c = good;
    if (value.is_null()) {
      c.erase(key);
    } else {
      c[key] = std::move(value);
    }
    return fixture.key.token("kid-1", c);
  };
  const auto signed_with_header = [&](const json& header) {
    return testing::make_jwt(header, good, [&](const std::string& in) { return fixture.key.sign(in); });
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"wrong iss", with("iss", "https://securetoken.google.com/other-project")},
      {"wrong aud", with("aud", "other-project")},
      {"expired", with("exp", now - 61)},
      {"iat in the future", with("iat", now + 120)},
      {"auth_time in the future", with("auth_time", now + 120)},
      {"no auth_time", with("auth_time", nullptr)},
      {"empty sub", with("sub", "")},
      {"no sub", with("sub", nullptr)},
      {"unknown kid", fixture.key.token("kid-unknown", good)},
      // Signed by the key of kid-1: a server that tried every certificate would accept these.
      {"no kid", signed_with_header({{"alg", "RS256"}, {"typ", "JWT"}})},
      {"empty kid", fixture.key.token("", good)},
      {"kid not a string", signed_with_header({{"alg", "RS256"}, {"kid", json::array({"kid-1"})}, {"typ", "JWT"}})},
      {"nbf an hour ahead", with("nbf", now + 3600)},
      {"iat an hour ahead", with("iat", now + 3600)},
      {"nbf as a string", with("nbf", std::to_string(now))},
      {"iat as a string", with("iat", std::to_string(now - 10))},
      {"exp as a string", with("exp", std::to_string(now + 3600))},
      {"auth_time as a string", with("auth_time", std::to_string(now - 20))},
      {"8193 bytes, validly signed", sized_token(fixture.key, good, 8193)},
      {"8192 bytes of garbage", std::string(8192, 'a')},
      {"signed by another key", fixture.other_key.token("kid-1", good)},
      {"HS256 with a known kid", testing::make_jwt({{"alg", "HS256"}, {"kid", "kid-1"}}, good,
                                                   [](const std::string&) { return std::string(32, 'x'); })},
      {"alg none", testing::make_jwt({{"alg", "none"}, {"kid", "kid-1"}}, good,
                                     [](const std::string&) { return std::string(); })},
      {"EdDSA claimed for Firebase", testing::make_jwt({{"alg", "EdDSA"}, {"kid", "kid-1"}}, good,
                                                       [](const std::string&) { return std::string(64, 'x'); })},
  };
  for (const auto& [name, token] : cases) {
    CAPTURE(name);
    const auto exchange = perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(token));
    CHECK(exchange.status == 401);
    CHECK(exchange.body["error"]["code"] == "UNAUTHENTICATED");
  }
  const std::vector<std::pair<std::string, std::string>> accepted = {
      {"as issued", fixture.key.token("kid-1", good)},
      {"nbf 30 s ahead, within the skew", with("nbf", now + 30)},
      {"iat 30 s ahead, within the skew", with("iat", now + 30)},
      {"8192 bytes, validly signed", sized_token(fixture.key, good, 8192)},
  };
  for (const auto& [name, token] : accepted) {
    CAPTURE(name);
    const auto exchange = perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(token));
    CHECK_MESSAGE(exchange.status == 200, exchange.raw_body);
  }
}

TEST_CASE("Firebase tokens are refused when the server does not trust Firebase") {
  FirebaseFixture fixture;
  testing::TestServer server;
  auto client = server.client();
  const std::string token = fixture.key.token("kid-1", claims_at(server, server.clock(), "uid-3"));
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(token)).status == 401);
}

TEST_CASE("rotating the certificate file takes effect without a restart") {
  FirebaseFixture fixture;
  testing::TestServer server(fixture.options());
  auto client = server.client();
  const json claims = claims_at(server, server.clock(), "uid-4");
  const std::string old_token = fixture.key.token("kid-1", claims);
  const std::string new_token = fixture.other_key.token("kid-2", claims);
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(old_token)).status == 200);
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(new_token)).status == 401);

  fixture.write_certs({{"kid-1", fixture.key.certificate_pem()}, {"kid-2", fixture.other_key.certificate_pem()}});
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(new_token)).status == 200);

  fixture.write_certs({{"kid-2", fixture.other_key.certificate_pem()}});
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(old_token)).status == 401);
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(new_token)).status == 200);

  // A broken file trusts nothing rather than crashing; fixing it restores service.
  fixture.write_certs(json("not an object"));
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(new_token)).status == 401);
  fixture.write_certs({{"kid-2", fixture.other_key.certificate_pem()}});
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(new_token)).status == 200);
}

TEST_CASE("a Firebase user with the email of an existing account links only with a verified email") {
  FirebaseFixture fixture;
  testing::TestServer server(fixture.options());
  auto client = server.client();
  const std::string local = server.create_developer("uid-5@firebase.example.com");
  const std::string local_id = perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(local)).body["data"]["id"];

  json unverified = claims_at(server, server.clock(), "uid-5");
  unverified["email_verified"] = false;
  CHECK(perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(fixture.key.token("kid-1", unverified)))
            .status == 401);

  const json verified = claims_at(server, server.clock(), "uid-5");
  const auto linked = perform(client, "GET", "/v1/developer/me", "", "", testing::bearer(fixture.key.token("kid-1", verified)));
  CHECK(linked.status == 200);
  CHECK(linked.body["data"]["id"] == local_id);
}

TEST_CASE("--firebase-project-id without --firebase-certs is a start-up error") {
  CHECK_THROWS_AS(testing::TestServer({[](app::Config& config) { config.tokens.firebase_project_id = kProject; }, nullptr}),
                  app::http::StartupError);
}

TEST_CASE("a disabled developer's Firebase tokens are 401, whether the account is linked already or not") {
  FirebaseFixture fixture;
  testing::TestServer server(fixture.options());
  auto client = server.client();
  auto& accounts = server.application().runtime().accounts();
  const auto me = [&](const std::string& uid) {
    return perform(client, "GET", "/v1/developer/me", "", "",
                   testing::bearer(fixture.key.token("kid-1", claims_at(server, server.clock(), uid))));
  };

  // Linked by an earlier token.
  REQUIRE(me("uid-7").status == 200);
  REQUIRE(accounts.set_disabled("uid-7@firebase.example.com", true).ok());
  const auto refused = me("uid-7");
  CHECK(refused.status == 401);
  CHECK(refused.body["error"]["message"] == "This account is disabled; ask the operator.");
  REQUIRE(accounts.set_disabled("uid-7@firebase.example.com", false).ok());
  CHECK(me("uid-7").status == 200);

  // An operator-made account, disabled before its first Firebase sign-in: not linked, refused.
  server.create_developer("uid-8@firebase.example.com");
  REQUIRE(accounts.set_disabled("uid-8@firebase.example.com", true).ok());
  CHECK(me("uid-8").status == 401);
  REQUIRE(accounts.set_disabled("uid-8@firebase.example.com", false).ok());
  CHECK(me("uid-8").status == 200);
}
