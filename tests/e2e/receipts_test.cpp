// End-to-end: signed receipts and Idempotency-Key (SPEC §16) through the built binary — a
// receipt checked by the public `jose` npm package against the served JWKS, the receipt-keys
// commands on a running server, a keyed send across kill -9, and receipts refused as console
// tokens.
#include <doctest/doctest.h>
#include <signal.h>

#include <SQLiteCpp/Database.h>
#include <httplib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/jwt.h"
#include "tests/e2e/helpers.h"
#include "tests/e2e/process.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;

namespace {

using testing::binary;
using testing::start_and_wait;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string kReceiptType = "phone-verification+jwt";
const std::string kWebhooksDir = std::string(COBINAR_SOURCE_DIR) + "/tests/webhooks";

// Polls `done` every 20 ms until it holds or `timeout` passes; returns its last answer.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

// A server's stderr without the access log, for a failure's context.
std::string log_of(const testing::Process& server) {
  std::string kept, line;
  std::istringstream lines(server.err());
  while (std::getline(lines, line)) {
    if (line.find(" info request ") == std::string::npos) kept += line + "\n";
  }
  return "server stderr (access log left out):\n" + kept;
}

// A developer (CLI), a project and an application (HTTP): the app's JSON with its secrets and
// the developer's console header.
struct ProvisionedApp {
  Json app;
  httplib::Headers console;
  httplib::Headers credentials() const {
    return {{"x-client-id", app["clientId"]}, {"x-client-secret", app["clientSecret"]}, {"x-api-key", app["apiKey"]}};
  }
  std::string client_id() const { return app["clientId"]; }
  std::string id() const { return app["id"]; }
};

ProvisionedApp provision(const std::string& db, httplib::Client& client, const std::string& environment = "test") {
  const auto created = testing::run_binary(binary(), {"developer", "create", "--email", "ops@example.com", "--db", db});
  REQUIRE_MESSAGE(created.code == 0, created.err);
  const std::string token = testing::run_binary(binary(), {"token", "--email", "ops@example.com", "--db", db}).out;
  ProvisionedApp provisioned;
  provisioned.console = {{"Authorization", "Bearer " + token.substr(0, token.find('\n'))}};
  auto project = client.Post("/v1/projects", provisioned.console, R"({"name":"p"})", "application/json");
  REQUIRE(project);
  REQUIRE_MESSAGE(project->status == 201, project->body);
  const std::string project_id = Json::parse(project->body)["data"]["id"];
  auto created_app = client.Post("/v1/applications", provisioned.console,
                                 Json{{"name", "Shop"}, {"projectId", project_id}, {"environment", environment}}.dump(),
                                 "application/json");
  REQUIRE(created_app);
  REQUIRE_MESSAGE(created_app->status == 201, created_app->body);
  provisioned.app = Json::parse(created_app->body)["data"];
  return provisioned;
}

// A `+999` virtual number (E.164, no spaces), distinct for each n.
std::string virtual_phone(long long n) { return "+999" + std::to_string(100'000'000 + n); }

std::string digits_only(const std::string& phone) {
  std::string out;
  for (const char c : phone) {
    if (c != ' ') out += c;
  }
  return out;
}

// Send and verify with the right code: the verify answer's data.
Json send_and_verify(httplib::Client& client, const ProvisionedApp& app, const std::string& phone) {
  auto sent = client.Post("/v1/otp/send", app.credentials(), Json{{"phone", phone}}.dump(), "application/json");
  REQUIRE(sent);
  REQUIRE_MESSAGE(sent->status == 201, sent->body);
  const Json data = Json::parse(sent->body)["data"];
  auto verified = client.Post("/v1/otp/verify", app.credentials(),
                              Json{{"requestId", data["requestId"]}, {"code", data["testCode"]}}.dump(), "application/json");
  REQUIRE(verified);
  REQUIRE_MESSAGE(verified->status == 200, verified->body);
  return Json::parse(verified->body)["data"];
}

// A compact JWS's header and claims, decoded without checking anything.
struct Decoded {
  Json header, claims;
};
Decoded decode(const std::string& token) {
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  const auto header = core::base64url_decode(token.substr(0, first));
  const auto claims = core::base64url_decode(token.substr(first + 1, second - first - 1));
  REQUIRE(header);
  REQUIRE(claims);
  return {Json::parse(*header), Json::parse(*claims)};
}

std::string kid_of(const std::string& token) { return decode(token).header.value("kid", ""); }

// The served JWKS's kids (empty when it does not answer 200).
std::set<std::string> jwks_kids(httplib::Client& client) {
  std::set<std::string> kids;
  auto jwks = client.Get("/.well-known/jwks.json");
  if (!jwks || jwks->status != 200) return kids;
  const Json body = Json::parse(jwks->body);
  for (const auto& key : body["keys"]) kids.insert(key["kid"].get<std::string>());
  return kids;
}

// `cobinar-phone receipt-keys ARGS... --db DB` (plus `extra` options).
testing::Completed receipt_keys(const std::string& db, std::vector<std::string> args,
                                const std::vector<std::string>& extra = {}) {
  args.insert(args.begin(), "receipt-keys");
  args.insert(args.end(), {"--db", db});
  args.insert(args.end(), extra.begin(), extra.end());
  return testing::run_binary(binary(), args);
}

// kid → state, from `receipt-keys list`.
std::map<std::string, std::string> key_states(const std::string& db) {
  const auto listed = receipt_keys(db, {"list"});
  REQUIRE_MESSAGE(listed.code == 0, listed.err);
  std::map<std::string, std::string> states;
  for (const auto& key : Json::parse(listed.out)) states[key["kid"]] = key["state"];
  return states;
}

// The public jose package's verdict on a receipt (tests/webhooks/verify-receipt.mjs).
Json jose_verify(const std::string& jwks_url, const std::string& issuer, const std::string& audience,
                 const std::string& token, const std::optional<std::string>& nonce = std::nullopt) {
  std::vector<std::string> args = {"node", kWebhooksDir + "/verify-receipt.mjs", jwks_url, issuer, audience, token};
  if (nonce) args.push_back(*nonce);
  const auto ran = testing::run_binary("/usr/bin/env", args);
  INFO(ran.err);
  REQUIRE(ran.code == 0);
  return Json::parse(ran.out);
}

// Seconds since the epoch of a server timestamp.
long long epoch_seconds(const std::string& timestamp) {
  const auto parsed = core::parse_timestamp(timestamp);
  REQUIRE_MESSAGE(parsed, timestamp);
  return std::chrono::duration_cast<std::chrono::seconds>(parsed->time_since_epoch()).count();
}

}  // namespace

TEST_CASE("receipts verify with the npm jose package") {
  REQUIRE_MESSAGE(std::filesystem::exists(kWebhooksDir + "/node_modules/jose"),
                  "run `npm ci --prefix tests/webhooks` (scripts/test.sh does)");
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  testing::Process server(binary(), {"--db", db, "--listen", "127.0.0.1:0"});
  const int port = start_and_wait(server);
  httplib::Client client("127.0.0.1", port);
  const auto app = provision(db, client);
  const std::string jwks_url = "http://127.0.0.1:" + std::to_string(port) + "/.well-known/jwks.json";
  INFO(log_of(server));

  // The JWKS: no auth, cacheable, public EC P-256 keys only.
  auto jwks = client.Get("/.well-known/jwks.json");
  REQUIRE(jwks);
  CHECK(jwks->status == 200);
  CHECK(jwks->get_header_value("Cache-Control") == "public, max-age=300");
  const Json keys = Json::parse(jwks->body)["keys"];
  REQUIRE(keys.size() == 1);
  for (const auto& key : keys) {
    CHECK(key["kty"] == "EC");
    CHECK(key["crv"] == "P-256");
    CHECK(key["alg"] == "ES256");
    CHECK(key["use"] == "sig");
    CHECK(key["x"].is_string());
    CHECK(key["y"].is_string());
    CHECK_FALSE(key.contains("d"));
  }

  // A keyed verify of a send that carried a nonce.
  const std::string nonce = "n-3f9a.c2_e~7";
  auto sent = client.Post("/v1/otp/send", app.credentials(), Json{{"phone", "+999 482 918 102"}, {"nonce", nonce}}.dump(),
                          "application/json");
  REQUIRE(sent);
  REQUIRE_MESSAGE(sent->status == 201, sent->body);
  const Json send_data = Json::parse(sent->body)["data"];
  CHECK_FALSE(send_data.contains("nonce"));
  auto keyed = app.credentials();
  keyed.emplace("Idempotency-Key", "verify-1");
  const std::string verify_body = Json{{"requestId", send_data["requestId"]}, {"code", send_data["testCode"]}}.dump();
  auto first = client.Post("/v1/otp/verify", keyed, verify_body, "application/json");
  REQUIRE(first);
  REQUIRE_MESSAGE(first->status == 200, first->body);
  CHECK_FALSE(first->has_header("Idempotent-Replayed"));
  const Json verified = Json::parse(first->body)["data"];
  CHECK(verified["status"] == "verified");
  REQUIRE(verified["receipt"].is_string());
  const std::string receipt = verified["receipt"];
  const Decoded decoded = decode(receipt);
  CHECK(decoded.header == Json{{"alg", "ES256"}, {"kid", keys[0]["kid"]}, {"typ", kReceiptType}});

  // Its replay is the same answer byte for byte, receipt and all: nothing is signed again. The
  // same key with another body is refused.
  auto replay = client.Post("/v1/otp/verify", keyed, verify_body, "application/json");
  REQUIRE(replay);
  CHECK(replay->status == 200);
  CHECK(replay->get_header_value("Idempotent-Replayed") == "true");
  CHECK(replay->body == first->body);
  auto reused = client.Post("/v1/otp/verify", keyed, Json{{"requestId", send_data["requestId"]}, {"code", ""}}.dump(),
                            "application/json");
  REQUIRE(reused);
  CHECK(reused->status == 422);
  CHECK(Json::parse(reused->body)["error"]["code"] == "IDEMPOTENCY_KEY_REUSED");

  // jose fetches the JWKS and checks signature, typ, alg, iss, aud, exp and the nonce.
  const Json result = jose_verify(jwks_url, "cobinar-phone", app.client_id(), receipt, nonce);
  REQUIRE_MESSAGE(result["ok"] == true, result.dump());
  const Json& payload = result["payload"];
  CHECK(result["protectedHeader"] == decoded.header);
  CHECK(payload["iss"] == "cobinar-phone");
  CHECK(payload["aud"] == app.client_id());
  CHECK(payload["sub"] == "+999482918102");
  CHECK(payload["phone_number"] == "+999482918102");
  CHECK(payload["phone_number_verified"] == true);
  CHECK(payload["amr"] == Json::array({"otp", "sms"}));
  CHECK(payload["jti"] == verified["requestId"]);
  CHECK(payload["app_id"] == app.id());
  CHECK(payload["nonce"] == nonce);
  REQUIRE(payload["iat"].is_number_integer());
  CHECK(payload["exp"].get<long long>() == payload["iat"].get<long long>() + 600);
  CHECK(payload["auth_time"] == epoch_seconds(verified["verifiedAt"]));
  CHECK(epoch_seconds(verified["receiptExpiresAt"]) == payload["exp"].get<long long>());
  const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(std::abs(payload["iat"].get<long long>() - now) <= 5);

  // Without a nonce at send, the receipt carries none.
  const Json plain = send_and_verify(client, app, "+999 482 918 103");
  const Json plain_result = jose_verify(jwks_url, "cobinar-phone", app.client_id(), plain["receipt"]);
  REQUIRE_MESSAGE(plain_result["ok"] == true, plain_result.dump());
  CHECK_FALSE(plain_result["payload"].contains("nonce"));
  CHECK(plain_result["payload"]["phone_number"] == "+999482918103");

  // What jose must refuse.
  Json tampered_claims = decoded.claims;
  tampered_claims["phone_number"] = tampered_claims["sub"] = "+999482918104";
  const auto dot = receipt.find('.');
  const std::string tampered =
      receipt.substr(0, dot) + "." + core::base64url_encode(tampered_claims.dump()) + receipt.substr(receipt.rfind('.'));
  struct Refusal {
    std::string name;
    std::string issuer, audience, token;
    std::string code;  // jose's error code
  };
  const std::vector<Refusal> refusals = {
      {"tampered payload", "cobinar-phone", app.client_id(), tampered, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"},
      {"wrong audience", "cobinar-phone", "someone-elses-client-id", receipt, "ERR_JWT_CLAIM_VALIDATION_FAILED"},
      {"wrong issuer", "not-cobinar", app.client_id(), receipt, "ERR_JWT_CLAIM_VALIDATION_FAILED"},
  };
  for (const auto& r : refusals) {
    CAPTURE(r.name);
    const Json refused = jose_verify(jwks_url, r.issuer, r.audience, r.token);
    CHECK_MESSAGE(refused["ok"] == false, refused.dump());
    CHECK_MESSAGE(refused["code"] == r.code, refused.dump());
  }

  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}

TEST_CASE("receipt-keys lifecycle on a running server") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  testing::Process server(binary(), {"--db", db, "--listen", "127.0.0.1:0", "--send-rate-limit", "1000",
                                     "--phone-send-limit", "1000", "--verify-rate-limit", "1000"});
  const int port = start_and_wait(server);
  httplib::Client client("127.0.0.1", port);
  const auto app = provision(db, client);
  INFO(log_of(server));
  long long phone = 0;
  auto receipt_kid = [&] { return kid_of(send_and_verify(client, app, virtual_phone(++phone))["receipt"]); };

  // One signing key, the one that signs and is served.
  const auto listed = receipt_keys(db, {"list"});
  REQUIRE_MESSAGE(listed.code == 0, listed.err);
  const Json initial = Json::parse(listed.out);
  REQUIRE(initial.size() == 1);
  CHECK(initial[0]["state"] == "signing");
  CHECK(initial[0]["createdAt"].is_string());
  const std::string first_kid = initial[0]["kid"];
  CHECK(jwks_kids(client) == std::set<std::string>{first_kid});
  const std::string first_receipt = send_and_verify(client, app, virtual_phone(++phone))["receipt"];
  CHECK(kid_of(first_receipt) == first_kid);

  // rotate: the new key is published at once, signs 2 s later.
  const auto rotate_started = Clock::now();
  const auto rotated = receipt_keys(db, {"rotate"}, {"--receipt-key-publish-seconds", "2"});
  REQUIRE_MESSAGE(rotated.code == 0, rotated.err);
  const Json new_key = Json::parse(rotated.out);
  const std::string second_kid = new_key["kid"];
  CHECK(new_key["state"] == "next");
  CHECK(second_kid != first_kid);
  const std::string during_publish = receipt_kid();
  if (Clock::now() - rotate_started < 2s) {
    CHECK(during_publish == first_kid);  // still the old key while the new one is only published
  } else {
    MESSAGE("the machine was too slow to observe the publish window (2 s); skipped the old-kid check");
  }
  {
    const auto states = key_states(db);
    if (Clock::now() - rotate_started < 2s) CHECK(states.at(second_kid) == "next");
    CHECK(states.at(first_kid) == "signing");
  }
  CHECK(wait_until([&] { return jwks_kids(client).count(second_kid) == 1; }, 5s));
  CHECK(jwks_kids(client).count(first_kid) == 1);

  // Once its time has come it signs; the old one is retiring and still served.
  REQUIRE(wait_until([&] { return key_states(db).at(second_kid) == "signing"; }, 10s));
  CHECK(receipt_kid() == second_kid);
  CHECK(key_states(db).at(first_kid) == "retiring");
  CHECK(jwks_kids(client) == std::set<std::string>{first_kid, second_kid});
  const std::string jwks_url = "http://127.0.0.1:" + std::to_string(port) + "/.well-known/jwks.json";
  const bool have_jose = std::filesystem::exists(kWebhooksDir + "/node_modules/jose");

  // retire the old key (leaked) and rotate again, slowly (a key published for 300 s): the old
  // key is gone from the JWKS within 5 s, receipts it signed are refused; the new one is there.
  const auto retired_old = receipt_keys(db, {"retire", "--kid", first_kid});
  REQUIRE_MESSAGE(retired_old.code == 0, retired_old.err);
  const auto rotated_slowly = receipt_keys(db, {"rotate"}, {"--receipt-key-publish-seconds", "300"});
  REQUIRE_MESSAGE(rotated_slowly.code == 0, rotated_slowly.err);
  const std::string third_kid = Json::parse(rotated_slowly.out)["kid"];
  CHECK(Json::parse(rotated_slowly.out)["state"] == "next");
  {
    const auto states = key_states(db);
    CHECK(states.at(first_kid) == "retired");
    CHECK(states.at(second_kid) == "signing");
    CHECK(states.at(third_kid) == "next");
  }
  CHECK(wait_until([&] { return jwks_kids(client) == std::set<std::string>{second_kid, third_kid}; }, 5s));
  CHECK(receipt_kid() == second_kid);
  if (have_jose) {
    const Json refused = jose_verify(jwks_url, "cobinar-phone", app.client_id(), first_receipt);
    CHECK_MESSAGE(refused["ok"] == false, refused.dump());
    CHECK(refused["code"] == "ERR_JWKS_NO_MATCHING_KEY");
  }

  // retire the signing key while a next key is published: the next key signs at once (the ring
  // says so at once); retire that one too, with no next key: a new key is made and signs at once.
  // The server follows both within 5 s.
  const auto promoted = receipt_keys(db, {"retire", "--kid", second_kid});
  REQUIRE_MESSAGE(promoted.code == 0, promoted.err);
  CHECK(key_states(db).at(third_kid) == "signing");
  const auto retired_signing = receipt_keys(db, {"retire", "--kid", third_kid});
  REQUIRE_MESSAGE(retired_signing.code == 0, retired_signing.err);
  std::string fourth_kid;
  for (const auto& key : Json::parse(retired_signing.out)) {
    if (key["state"] == "signing") fourth_kid = key["kid"];
  }
  REQUIRE_FALSE(fourth_kid.empty());
  CHECK(std::set<std::string>{first_kid, second_kid, third_kid}.count(fourth_kid) == 0);
  std::string kid_after;
  CHECK(wait_until([&] { return (kid_after = receipt_kid()) == fourth_kid; }, 5s));
  CHECK(kid_after == fourth_kid);
  CHECK(wait_until([&] { return jwks_kids(client) == std::set<std::string>{fourth_kid}; }, 5s));

  // list: every key, newest first, retired ones included.
  const Json all = Json::parse(receipt_keys(db, {"list"}).out);
  std::vector<std::string> order, states;
  for (const auto& key : all) {
    order.push_back(key["kid"]);
    states.push_back(key["state"]);
    CHECK(key.size() == 3);
  }
  CHECK(order == std::vector<std::string>{fourth_kid, third_kid, second_kid, first_kid});
  CHECK(states == std::vector<std::string>{"signing", "retired", "retired", "retired"});

  // export: the JWKS the server serves, for machines that cannot reach it.
  const std::string out = dir.file("jwks.json");
  const auto exported = receipt_keys(db, {"export", "--out", out});
  REQUIRE_MESSAGE(exported.code == 0, exported.err);
  const Json file = Json::parse(testing::read_file(out));
  std::set<std::string> exported_kids;
  for (const auto& key : file["keys"]) exported_kids.insert(key["kid"].get<std::string>());
  CHECK(exported_kids == jwks_kids(client));
  auto served = client.Get("/.well-known/jwks.json");
  REQUIRE(served);
  CHECK(file == Json::parse(served->body));
  CHECK_FALSE(std::filesystem::exists(out + ".tmp"));

  // Refusals: exit non-zero with one line naming the problem.
  struct Refusal {
    std::string name;
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Refusal> refusals = {
      {"unknown kid", {"retire", "--kid", "nosuch"}, "nosuch"},
      {"retire without --kid", {"retire"}, "--kid"},
      {"export without --out", {"export"}, "--out"},
      {"no subcommand", {}, "subcommand"},
  };
  for (const auto& r : refusals) {
    CAPTURE(r.name);
    const auto refused = receipt_keys(db, r.args);
    CHECK(refused.code != 0);
    CHECK_MESSAGE(refused.err.find(r.expected) != std::string::npos, refused.err);
  }
  CHECK(key_states(db).size() == 4);  // the refusals changed nothing

  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}

// `receipt-keys retire` writes retired_at unless it is there already: a key the CLI's shorter
// --receipt-ttl-seconds counts as expired may still be published by a server whose TTL is longer.
// The hour that has passed since the rotation is made by moving the stored times back.
TEST_CASE("receipt-keys retire removes a key from the JWKS of a server whose receipt TTL is longer than the CLI's") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  testing::Process server(binary(), {"--db", db, "--listen", "127.0.0.1:0", "--receipt-ttl-seconds", "86400"});
  httplib::Client client("127.0.0.1", start_and_wait(server));
  INFO(log_of(server));
  const auto listed = receipt_keys(db, {"list"});
  REQUIRE_MESSAGE(listed.code == 0, listed.err);
  const std::string old_kid = Json::parse(listed.out)[0]["kid"];
  const auto rotated = receipt_keys(db, {"rotate"}, {"--receipt-key-publish-seconds", "0"});
  REQUIRE_MESSAGE(rotated.code == 0, rotated.err);
  const std::string new_kid = Json::parse(rotated.out)["kid"];
  {
    // The old key signed until an hour ago: its receipts (24 h) may still be unexpired.
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    SQLite::Database handle(db, SQLite::OPEN_READWRITE);
    handle.setBusyTimeout(5000);
    for (const auto& [kid, age] : {std::pair{old_kid, 2h}, std::pair{new_kid, 1h}}) {
      SQLite::Statement update(handle, "UPDATE receipt_keys SET created_at = ?, signs_from = ? WHERE kid = ?");
      const std::string at = core::format_timestamp(now - age);
      update.bind(1, at);
      update.bind(2, at);
      update.bind(3, kid);
      REQUIRE(update.exec() == 1);
    }
  }
  REQUIRE(wait_until([&] { return jwks_kids(client) == std::set<std::string>{old_kid, new_kid}; }, 5s));
  CHECK(key_states(db).at(old_kid) == "retired");  // by the CLI's 600 s, while the server serves it

  const auto retired = receipt_keys(db, {"retire", "--kid", old_kid});
  CHECK(retired.code == 0);
  CHECK_MESSAGE(wait_until([&] { return jwks_kids(client) == std::set<std::string>{new_kid}; }, 5s),
                "the retired key is still in the JWKS: " << [&] {
                  std::string kids;
                  for (const auto& kid : jwks_kids(client)) kids += kid + " ";
                  return kids;
                }());

  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}

TEST_CASE("a keyed send survives kill -9: replayed byte for byte, or run once after the restart") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  const std::vector<std::string> args = {"--db", db, "--listen", "127.0.0.1:0", "--send-rate-limit", "1000",
                                         "--phone-send-limit", "1000"};
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;  // 800 in all: under the app's 1000 a minute with room for the re-sends

  // What the client sent and saw under each key.
  struct Keyed {
    std::string key, phone, body;
    bool answered = false;
    int status = 0;
    std::string answer;
    bool replayed_header = false;
  };
  std::vector<std::vector<Keyed>> sent(kThreads);
  ProvisionedApp app;
  {
    testing::Process server(binary(), args);
    const int port = start_and_wait(server);
    httplib::Client setup("127.0.0.1", port);
    app = provision(db, setup);

    std::atomic<int> answered{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    for (int t = 0; t < kThreads; ++t) {
      pool.emplace_back([&, t] {
        httplib::Client client("127.0.0.1", port);
        client.set_connection_timeout(2);
        client.set_read_timeout(5);
        while (!go) std::this_thread::yield();
        for (int i = 0; i < kPerThread; ++i) {
          Keyed keyed;
          keyed.key = "send-" + std::to_string(t) + "-" + std::to_string(i);
          keyed.phone = virtual_phone(t * 10'000 + i);
          keyed.body = Json{{"phone", keyed.phone}}.dump();
          auto headers = app.credentials();
          headers.emplace("Idempotency-Key", keyed.key);
          auto result = client.Post("/v1/otp/send", headers, keyed.body, "application/json");
          if (result) {
            keyed.answered = true;
            keyed.status = result->status;
            keyed.answer = result->body;
            keyed.replayed_header = result->has_header("Idempotent-Replayed");
            ++answered;
          }
          sent[t].push_back(std::move(keyed));
          if (!result) break;  // the server is gone
        }
      });
    }
    go = true;
    // ~300 ms of sends, or fewer if they are fast: the kill must land while they still run.
    const auto started = Clock::now();
    wait_until([&] { return answered >= kThreads * kPerThread / 2 || Clock::now() - started >= 300ms; }, 1s);
    server.signal(SIGKILL);
    REQUIRE(server.wait(10s).has_value());
    for (auto& thread : pool) thread.join();
  }

  std::size_t total = 0, answered_before = 0;
  for (const auto& keys : sent) {
    total += keys.size();
    for (const auto& k : keys) {
      if (!k.answered) continue;
      ++answered_before;
      CHECK_MESSAGE(k.status == 201, k.key << ": " << k.answer);
      CHECK_FALSE(k.replayed_header);  // a first answer carries no such header
    }
  }
  MESSAGE("keys sent before the kill: " << total << ", answered: " << answered_before);
  REQUIRE(answered_before > 0);

  testing::Process server(binary(), args);
  const int port = start_and_wait(server);
  httplib::Client client("127.0.0.1", port);
  INFO(log_of(server));
  std::map<std::string, std::string> phone_of_key;
  int replays = 0, firsts = 0;
  for (const auto& keys : sent) {
    for (const auto& k : keys) {
      CAPTURE(k.key);
      phone_of_key[k.key] = k.phone;
      auto headers = app.credentials();
      headers.emplace("Idempotency-Key", k.key);
      auto again = client.Post("/v1/otp/send", headers, k.body, "application/json");
      REQUIRE(again);
      REQUIRE_MESSAGE(again->status == 201, again->body);
      const bool replayed = again->has_header("Idempotent-Replayed");
      if (replayed) {
        ++replays;
        CHECK(again->get_header_value("Idempotent-Replayed") == "true");
        const std::string request_id = Json::parse(again->body)["data"]["requestId"];
        auto stored = client.Get("/v1/otp/" + request_id, app.console);
        REQUIRE(stored);
        CHECK(stored->status == 200);
      } else {
        ++firsts;
      }
      if (k.answered) {
        // Answered before the kill: it was committed with its answer, so it replays exactly.
        CHECK(replayed);
        CHECK(again->body == k.answer);
      }
    }
  }
  MESSAGE("after the restart: " << replays << " replays, " << firsts << " first answers");

  // One key, one effect: exactly one OTP request for each key's phone.
  std::map<std::string, int> per_phone;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    auto listed = client.Get("/v1/otp?appId=" + app.id() + "&limit=200" + (cursor.empty() ? "" : "&cursor=" + cursor),
                             app.console);
    REQUIRE(listed);
    REQUIRE(listed->status == 200);
    const Json body = Json::parse(listed->body);
    for (const auto& request : body["data"]) ++per_phone[digits_only(request["phone"])];
    if (body["nextCursor"].is_null()) break;
    cursor = body["nextCursor"];
  }
  for (const auto& [key, phone] : phone_of_key) {
    CAPTURE(key);
    CHECK(per_phone[phone] == 1);
  }
  CHECK(per_phone.size() == phone_of_key.size());

  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}

TEST_CASE("receipts are refused as console tokens") {
  testing::TempDir dir;
  const std::string db = dir.file("data.sqlite");
  testing::Process server(binary(), {"--db", db, "--listen", "127.0.0.1:0"});
  httplib::Client client("127.0.0.1", start_and_wait(server));
  const auto app = provision(db, client);
  const std::string receipt = send_and_verify(client, app, "+999 482 918 102")["receipt"];
  const httplib::Headers as_console = {{"Authorization", "Bearer " + receipt}};

  // The developer's own token still works; the receipt (same issuer) does not, anywhere.
  auto own = client.Get("/v1/projects", app.console);
  REQUIRE(own);
  CHECK(own->status == 200);
  for (const std::string path : {"/v1/projects", "/v1/developer/me", "/v1/applications", "/v1/otp", "/v1/receipt-keys"}) {
    CAPTURE(path);
    auto refused = client.Get(path, as_console);
    REQUIRE(refused);
    CHECK(refused->status == 401);
    CHECK(Json::parse(refused->body)["error"]["code"] == "UNAUTHENTICATED");
  }
  auto post = client.Post("/v1/projects", as_console, R"({"name":"q"})", "application/json");
  REQUIRE(post);
  CHECK(post->status == 401);

  server.signal(SIGTERM);
  CHECK(server.wait(10s) == 0);
}
