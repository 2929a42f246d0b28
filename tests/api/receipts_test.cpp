// Signed receipts (SPEC §16) through the real server, on either engine: the claims and header
// of a receipt, its signature against the served JWKS, the nonce's rules, the key ring's
// lifecycle under a manual clock, and the wall between receipts and console tokens. An
// independent JOSE library verifies receipts in tests/e2e/receipts_test.cpp.
#include <doctest/doctest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "core/jwt.h"
#include "tests/support/sandbox.h"

using namespace std::chrono_literals;
using nlohmann::json;
using testing::perform;

namespace {

json verified_with(testing::Sandbox& sandbox, const testing::AppCredentials& app, const json& send_body) {
  const auto sent = perform(sandbox.client, "POST", "/v1/otp/send", send_body.dump(), "application/json", app.headers());
  REQUIRE_MESSAGE(sent.status == 201, sent.raw_body);
  const auto verified = sandbox.verify(app, sent.body["data"]["requestId"], sent.body["data"]["testCode"]);
  REQUIRE_MESSAGE(verified.status == 200, verified.raw_body);
  return verified.body["data"];
}

// Checks an ES256 JWS against one JWK with OpenSSL directly (not through the server's code).
bool es256_verifies(const core::DecodedJwt& jwt, const json& jwk) {
  const auto x = core::base64url_decode(jwk["x"].get<std::string>());
  const auto y = core::base64url_decode(jwk["y"].get<std::string>());
  if (!x || !y || jwt.signature.size() != 64) return false;
  std::string point = "\x04" + *x + *y;
  OSSL_PARAM_BLD* build = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(build, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(build, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(build);
  EVP_PKEY_CTX* from = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* key = nullptr;
  EVP_PKEY_fromdata_init(from);
  EVP_PKEY_fromdata(from, &key, EVP_PKEY_PUBLIC_KEY, params);
  ECDSA_SIG* signature = ECDSA_SIG_new();
  const auto* raw = reinterpret_cast<const unsigned char*>(jwt.signature.data());
  ECDSA_SIG_set0(signature, BN_bin2bn(raw, 32, nullptr), BN_bin2bn(raw + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_size = i2d_ECDSA_SIG(signature, &der);
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  const bool ok = key != nullptr && EVP_DigestVerifyInit(context, nullptr, EVP_sha256(), nullptr, key) == 1 &&
                  EVP_DigestVerify(context, der, static_cast<std::size_t>(der_size),
                                   reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                                   jwt.signing_input.size()) == 1;
  EVP_MD_CTX_free(context);
  OPENSSL_free(der);
  ECDSA_SIG_free(signature);
  EVP_PKEY_free(key);
  EVP_PKEY_CTX_free(from);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(build);
  return ok;
}

json jwks_of(testing::TestServer& server) {
  auto client = server.client();
  const auto answer = perform(client, "GET", "/.well-known/jwks.json");
  REQUIRE(answer.status == 200);
  return answer.body;
}

std::set<std::string> kids_of(const json& jwks) {
  std::set<std::string> kids;
  for (const auto& key : jwks["keys"]) kids.insert(key["kid"]);
  return kids;
}

std::map<std::string, std::string> states_of(testing::Sandbox& sandbox) {
  std::map<std::string, std::string> states;
  const auto listed = sandbox.console("GET", "/v1/receipt-keys");
  for (const auto& key : listed.body["data"]) states[key["kid"]] = key["state"];
  return states;
}

}  // namespace

TEST_CASE("a verification's receipt: header, claims, and a signature the JWKS checks") {
  testing::TestServer server(testing::generous_limits());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test");
  server.clock().advance(1500ms);
  const json data = verified_with(sandbox, app, {{"phone", "+999 482 918 102"}, {"nonce", "login-7f3a"}});
  const auto jwt = core::decode_jwt(data["receipt"].get<std::string>());
  REQUIRE(jwt);
  const json jwks = jwks_of(server);
  REQUIRE(jwks["keys"].size() == 1);
  const json& jwk = jwks["keys"][0];
  CHECK(jwk.size() == 7);
  CHECK(jwk["kty"] == "EC");
  CHECK(jwk["crv"] == "P-256");
  CHECK(jwk["alg"] == "ES256");
  CHECK(jwk["use"] == "sig");
  CHECK(jwt->header == json{{"alg", "ES256"}, {"kid", jwk["kid"]}, {"typ", "phone-verification+jwt"}});
  const long long verified_at = core::parse_timestamp(data["verifiedAt"].get<std::string>())->time_since_epoch().count() / 1000;
  CHECK(jwt->claims == json{{"iss", server.config().tokens.issuer},
                            {"aud", app.client_id},
                            {"sub", "+999482918102"},
                            {"phone_number", "+999482918102"},
                            {"phone_number_verified", true},
                            {"amr", {"otp", "sms"}},
                            {"auth_time", verified_at},
                            {"iat", verified_at},
                            {"exp", verified_at + 600},
                            {"jti", data["requestId"]},
                            {"app_id", app.id},
                            {"nonce", "login-7f3a"}});
  CHECK(data["receiptExpiresAt"] == core::format_timestamp(core::TimePoint(std::chrono::seconds(verified_at + 600))));
  CHECK(es256_verifies(*jwt, jwk));
  // One changed byte of the claims breaks it.
  auto tampered = *jwt;
  tampered.signing_input.back() ^= 1;
  CHECK_FALSE(es256_verifies(tampered, jwk));

  auto client = server.client();
  const auto served = perform(client, "GET", "/.well-known/jwks.json");
  CHECK(served.headers.find("Cache-Control")->second == "public, max-age=300");
}

TEST_CASE("the send's nonce: one row per value") {
  testing::TestServer server(testing::generous_limits());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test");
  struct Row {
    std::string name;
    json nonce;  // "absent" leaves it out
    int status;
    json claim;  // null: no nonce claim
  };
  const std::vector<Row> rows = {
      {"absent", "absent", 201, nullptr},
      {"null", nullptr, 201, nullptr},
      {"one character", "n", 201, "n"},
      {"128 characters", std::string(128, 'n'), 201, std::string(128, 'n')},
      {"129 characters", std::string(129, 'n'), 400, nullptr},
      {"empty", "", 400, nullptr},
      {"a number", 42, 400, nullptr},
      {"an object", json::object(), 400, nullptr},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    json body = {{"phone", "+999 482 918 102"}};
    if (row.nonce != "absent") body["nonce"] = row.nonce;
    const auto sent = perform(sandbox.client, "POST", "/v1/otp/send", body.dump(), "application/json", app.headers());
    REQUIRE(sent.status == row.status);
    if (row.status == 400) {
      CHECK(sent.body["error"]["details"]["fields"].contains("nonce"));
      continue;
    }
    CHECK_FALSE(sent.body["data"].contains("nonce"));  // the send answer does not echo it
    const auto verified = sandbox.verify(app, sent.body["data"]["requestId"], sent.body["data"]["testCode"]);
    const auto jwt = core::decode_jwt(verified.body["data"]["receipt"].get<std::string>());
    REQUIRE(jwt);
    if (row.claim.is_null()) {
      CHECK_FALSE(jwt->claims.contains("nonce"));
    } else {
      CHECK(jwt->claims["nonce"] == row.claim);
    }
  }
}

TEST_CASE("receipts and console tokens never pass for each other") {
  testing::TestServer server(testing::generous_limits());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test");
  const json data = verified_with(sandbox, app, {{"phone", "+999 482 918 102"}});
  auto client = server.client();
  const auto as_token = perform(client, "GET", "/v1/projects", "", "application/json",
                                testing::bearer(data["receipt"].get<std::string>()));
  CHECK(as_token.status == 401);
  // A console token is not signed by a receipt key.
  const auto token = server.application().runtime().accounts().issue_token(sandbox.email);
  REQUIRE(token.ok());
  const auto jwt = core::decode_jwt(token.value());
  REQUIRE(jwt);
  CHECK(jwt->header["typ"] == "JWT");
  const json jwks = jwks_of(server);
  for (const auto& key : jwks["keys"]) CHECK_FALSE(es256_verifies(*jwt, key));
  CHECK_FALSE(kids_of(jwks_of(server)).contains(jwt->header.value("kid", "")));
}

TEST_CASE("the key ring: publish, then sign; superseded keys stay published until their receipts expire") {
  testing::TestServer server(testing::generous_limits());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test");
  auto& receipts = server.application().runtime().receipts();
  auto client = server.client();
  CHECK(perform(client, "GET", "/v1/receipt-keys").status == 401);

  const auto first_states = states_of(sandbox);
  REQUIRE(first_states.size() == 1);
  const std::string first = first_states.begin()->first;
  CHECK(first_states.begin()->second == "signing");

  const std::string second = receipts.rotate(300s);
  CHECK(states_of(sandbox) == std::map<std::string, std::string>{{first, "signing"}, {second, "next"}});
  CHECK(kids_of(jwks_of(server)) == std::set<std::string>{first, second});
  auto kid_of_new_receipt = [&] {
    const json data = verified_with(sandbox, app, {{"phone", "+999 482 918 102"}});
    return core::decode_jwt(data["receipt"].get<std::string>())->header["kid"].get<std::string>();
  };
  CHECK(kid_of_new_receipt() == first);

  server.clock().advance(301s);
  CHECK(kid_of_new_receipt() == second);
  CHECK(states_of(sandbox) == std::map<std::string, std::string>{{first, "retiring"}, {second, "signing"}});
  CHECK(kids_of(jwks_of(server)) == std::set<std::string>{first, second});

  server.clock().advance(601s);  // every receipt of the first key has expired
  CHECK(states_of(sandbox) == std::map<std::string, std::string>{{first, "retired"}, {second, "signing"}});
  CHECK(kids_of(jwks_of(server)) == std::set<std::string>{second});

  // Retiring the signing key with a next key waiting promotes it at once.
  server.clock().advance(1s);
  const std::string third = receipts.rotate(300s);
  REQUIRE(receipts.retire(second).ok());
  CHECK(states_of(sandbox) == std::map<std::string, std::string>{{first, "retired"}, {second, "retired"}, {third, "signing"}});
  CHECK(kid_of_new_receipt() == third);
  CHECK(kids_of(jwks_of(server)) == std::set<std::string>{third});
  // Retiring it with none waiting makes a new key that signs at once.
  server.clock().advance(1s);
  REQUIRE(receipts.retire(third).ok());
  const auto states = states_of(sandbox);
  CHECK(states.size() == 4);
  const std::string fourth = kid_of_new_receipt();
  CHECK(states.at(fourth) == "signing");
  CHECK(kids_of(jwks_of(server)) == std::set<std::string>{fourth});
  CHECK(receipts.retire("no-such-kid").error().code == core::ErrorCode::kNotFound);
  // Listed newest first.
  const auto listed = sandbox.console("GET", "/v1/receipt-keys").body["data"];
  CHECK(listed[0]["kid"] == fourth);
  CHECK(listed[0].size() == 3);
}
