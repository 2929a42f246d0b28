// Applications and their credentials: create (secrets shown once), read (previews only),
// list, patch, delete, plan limit, rotation with and without grace, webhook-secret reveal,
// the app-auth guard, and no plaintext secret anywhere in the database file.
#include <doctest/doctest.h>

#include <regex>

#include "tests/support/console.h"
#include "storage/sqlite/connection.h"

using namespace std::chrono_literals;
using nlohmann::json;
using testing::Console;
using testing::perform;

namespace {

core::Result<core::Application> app_auth(testing::TestServer& server, const std::string& client_id,
                                         const std::string& secret, const std::string& key) {
  return server.application().runtime().applications().authenticate(client_id, secret, key);
}

}  // namespace

TEST_CASE("create returns the credentials once in the SPEC's formats; reads show previews only") {
  testing::TestServer server;
  Console ann(server, "ann@example.com");
  const std::string project = ann.project();
  const json created = ann.app(project, "live", "Checkout");

  CHECK(created["name"] == "Checkout");
  CHECK(created["projectId"] == project);
  CHECK(created["environment"] == "live");
  CHECK(created["status"] == "active");
  CHECK(created["rotatedAt"].is_null());
  CHECK(std::regex_match(created["clientId"].get<std::string>(), std::regex("ph_live_client_[0-9a-f]{48}")));
  CHECK(std::regex_match(created["clientSecret"].get<std::string>(), std::regex("ph_live_secret_[0-9a-f]{48}")));
  CHECK(std::regex_match(created["apiKey"].get<std::string>(), std::regex("ph_live_api_[0-9a-f]{48}")));
  CHECK(std::regex_match(created["webhookSecret"].get<std::string>(), std::regex("whsec_[0-9a-f]{48}")));
  CHECK(created["warning"].get<std::string>().find("only time") != std::string::npos);
  const std::string secret = created["clientSecret"], key = created["apiKey"];
  CHECK(created["clientSecretPreview"] == "ph_live_secret_\xe2\x80\xa6" + secret.substr(secret.size() - 4));
  CHECK(created["apiKeyPreview"] == "ph_live_api_\xe2\x80\xa6" + key.substr(key.size() - 4));

  const json test_app = ann.app(project, "test");
  CHECK(test_app["clientId"].get<std::string>().starts_with("ph_test_client_"));
  CHECK(test_app["apiKey"].get<std::string>().starts_with("ph_test_api_"));

  const auto got = ann.call("GET", "/v1/applications/" + created["id"].get<std::string>());
  REQUIRE(got.status == 200);
  for (const char* hidden : {"clientSecret", "apiKey", "webhookSecret", "warning"}) CHECK_FALSE(got.body["data"].contains(hidden));
  CHECK(got.raw_body.find(secret) == std::string::npos);
  CHECK(got.raw_body.find(key) == std::string::npos);
  json expected = created;
  for (const char* hidden : {"clientSecret", "apiKey", "webhookSecret", "warning"}) expected.erase(hidden);
  CHECK(got.body["data"] == expected);
}

TEST_CASE("create validates every field; an unknown project is 404") {
  testing::TestServer server;
  Console ann(server, "ann@example.com");
  const auto bad = ann.call("POST", "/v1/applications", {{"name", ""}, {"environment", "staging"}});
  CHECK(bad.status == 400);
  const auto& fields = bad.body["error"]["details"]["fields"];
  CHECK(fields.contains("name"));
  CHECK(fields.contains("environment"));
  CHECK(fields.contains("projectId"));
  const auto unknown = ann.call("POST", "/v1/applications", {{"name", "a"}, {"projectId", "nope"}, {"environment", "test"}});
  CHECK(unknown.status == 404);
  CHECK(ann.call("POST", "/v1/applications", {{"name", "a"}, {"projectId", 7}, {"environment", "test"}}).status == 400);
}

TEST_CASE("list: newest first, filtered by project, paginated") {
  testing::TestServer server;
  Console ann(server, "ann@example.com");
  const std::string p1 = ann.project("one"), p2 = ann.project("two");
  const std::string a = ann.app(p1)["id"], b = ann.app(p2)["id"], c = ann.app(p1)["id"];
  auto ids = [](const json& list) {
    std::vector<std::string> out;
    for (const auto& item : list) out.push_back(item["id"]);
    return out;
  };
  CHECK(ids(ann.call("GET", "/v1/applications").body["data"]) == std::vector<std::string>{c, b, a});
  CHECK(ids(ann.call("GET", "/v1/applications?projectId=" + p1).body["data"]) == std::vector<std::string>{c, a});
  const auto first = ann.call("GET", "/v1/applications?limit=2");
  CHECK(ids(first.body["data"]) == std::vector<std::string>{c, b});
  const auto second = ann.call("GET", "/v1/applications?limit=2&cursor=" + first.body["nextCursor"].get<std::string>());
  CHECK(ids(second.body["data"]) == std::vector<std::string>{a});
  CHECK(second.body["nextCursor"].is_null());
  CHECK(ann.call("GET", "/v1/applications?projectId=unknown").status == 404);
  CHECK(ann.call("GET", "/v1/applications?limit=x").status == 400);
}

TEST_CASE("patch renames, disables and moves between the caller's projects") {
  testing::TestServer server;
  Console ann(server, "ann@example.com");
  const std::string p1 = ann.project("one"), p2 = ann.project("two");
  const json app = ann.app(p1);
  const std::string path = "/v1/applications/" + app["id"].get<std::string>();

  server.clock().advance(1s);
  const auto patched = ann.call("PATCH", path, {{"name", "Renamed"}, {"status", "disabled"}, {"projectId", p2}});
  REQUIRE(patched.status == 200);
  CHECK(patched.body["data"]["name"] == "Renamed");
  CHECK(patched.body["data"]["status"] == "disabled");
  CHECK(patched.body["data"]["projectId"] == p2);
  CHECK(patched.body["data"]["updatedAt"] == "2026-07-03T14:22:11.000Z");
  CHECK(ann.call("GET", "/v1/projects/" + p1).body["data"]["applicationCount"] == 0);
  CHECK(ann.call("GET", "/v1/projects/" + p2).body["data"]["applicationCount"] == 1);

  const auto bad = ann.call("PATCH", path, {{"status", "paused"}, {"name", ""}, {"environment", "test"}});
  CHECK(bad.status == 400);
  CHECK(bad.body["error"]["details"]["fields"].size() == 3);
  CHECK(ann.call("PATCH", path, {{"projectId", "unknown"}}).status == 404);
  CHECK(ann.call("GET", path).body["data"]["projectId"] == p2);
  CHECK(ann.call("PATCH", "/v1/applications/unknown", {{"name", "x"}}).status == 404);
}

TEST_CASE("delete removes the application and its credentials") {
  testing::TestServer server;
  Console ann(server, "ann@example.com");
  const json app = ann.app(ann.project());
  const std::string path = "/v1/applications/" + app["id"].get<std::string>();
  REQUIRE(app_auth(server, app["clientId"], app["clientSecret"], app["apiKey"]).ok());
  const auto removed = ann.call("DELETE", path);
  CHECK(removed.status == 200);
  CHECK(removed.body["data"] == json{{"id", app["id"]}, {"deleted", true}});
  CHECK(ann.call("GET", path).status == 404);
  CHECK(ann.call("DELETE", path).status == 404);
  CHECK(app_auth(server, app["clientId"], app["clientSecret"], app["apiKey"]).error().code == core::ErrorCode::kUnauthenticated);
  const long long left = server.application().database().read(
      [](storage::Connection& c) { return c.query_int64("SELECT count(*) FROM app_credentials"); });
  CHECK(left == 0);
}

TEST_CASE("the plan's application limit is 403 PLAN_LIMIT_EXCEEDED") {
  testing::TestServer server;
  Console ann(server, "ann@example.com");
  const std::string p1 = ann.project("one"), p2 = ann.project("two");
  for (int i = 0; i < 5; ++i) ann.app(i % 2 ? p1 : p2);
  const auto refused = ann.call("POST", "/v1/applications", {{"name", "six"}, {"projectId", p1}, {"environment", "live"}});
  CHECK(refused.status == 403);
  CHECK(refused.body["error"]["code"] == "PLAN_LIMIT_EXCEEDED");
  CHECK(refused.body["error"]["details"]["limit"] == 5);
  REQUIRE(server.application().runtime().accounts().set_plan("ann@example.com", "unlimited").ok());
  CHECK(ann.call("POST", "/v1/applications", {{"name", "six"}, {"projectId", p1}, {"environment", "live"}}).status == 201);
}

TEST_CASE("the app-auth guard checks key, then client id, then secret; disabled is 403") {
  testing::TestServer server;
  Console ann(server, "ann@example.com");
  const std::string project = ann.project();
  const json app = ann.app(project), other = ann.app(project);
  const std::string id = app["clientId"], secret = app["clientSecret"], key = app["apiKey"];

  REQUIRE(app_auth(server, id, secret, key).ok());
  CHECK(app_auth(server, id, secret, key).value().id == app["id"]);
  const std::string unknown_key = "ph_live_api_" + std::string(48, '0');
  for (const auto& [name, result] : std::vector<std::pair<std::string, core::Result<core::Application>>>{
           {"unknown key", app_auth(server, id, secret, unknown_key)},
           {"malformed key", app_auth(server, id, secret, "not-a-key")},
           {"empty key", app_auth(server, id, secret, "")},
           {"another app's client id", app_auth(server, other["clientId"], secret, key)},
           {"another app's secret", app_auth(server, id, other["clientSecret"], key)},
           {"wrong secret", app_auth(server, id, "ph_live_secret_" + std::string(48, 'f'), key)},
           {"empty secret", app_auth(server, id, "", key)},
       }) {
    CAPTURE(name);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == core::ErrorCode::kUnauthenticated);
  }

  ann.call("PATCH", "/v1/applications/" + app["id"].get<std::string>(), {{"status", "disabled"}});
  CHECK(app_auth(server, id, secret, key).error().code == core::ErrorCode::kForbidden);
  // A wrong secret on a disabled app is still 401: the status is not revealed to strangers.
  CHECK(app_auth(server, id, "ph_live_secret_" + std::string(48, 'f'), key).error().code ==
        core::ErrorCode::kUnauthenticated);
  CHECK(server.application().runtime().applications().authenticate_api_key(key).error().code == core::ErrorCode::kForbidden);
  CHECK(server.application().runtime().applications().authenticate_api_key(other["apiKey"].get<std::string>()).ok());
}

TEST_CASE("rotation without grace kills the old value at once") {
  testing::TestServer server;
  Console ann(server, "ann@example.com");
  const json app = ann.app(ann.project());
  const std::string path = "/v1/applications/" + app["id"].get<std::string>();

  server.clock().advance(5s);
  REQUIRE(app_auth(server, app["clientId"], app["clientSecret"], app["apiKey"]).ok());  // in the auth cache now
  const auto secret = ann.call("POST", path + "/rotate/secret");
  REQUIRE(secret.status == 200);
  CHECK(secret.body["data"]["type"] == "secret");
  CHECK(secret.body["data"]["rotatedAt"] == "2026-07-03T14:22:15.000Z");
  const std::string new_secret = secret.body["data"]["value"];
  CHECK(std::regex_match(new_secret, std::regex("ph_live_secret_[0-9a-f]{48}")));
  CHECK(app_auth(server, app["clientId"], new_secret, app["apiKey"]).ok());
  CHECK_FALSE(app_auth(server, app["clientId"], app["clientSecret"], app["apiKey"]).ok());
  const json after = ann.call("GET", path).body["data"];
  CHECK(after["rotatedAt"] == "2026-07-03T14:22:15.000Z");
  CHECK(after["clientSecretPreview"] == "ph_live_secret_\xe2\x80\xa6" + new_secret.substr(new_secret.size() - 4));

  REQUIRE(app_auth(server, app["clientId"], new_secret, app["apiKey"]).ok());
  const std::string new_key = ann.call("POST", path + "/rotate/api", json::object()).body["data"]["value"];
  CHECK(app_auth(server, app["clientId"], new_secret, new_key).ok());
  CHECK_FALSE(app_auth(server, app["clientId"], new_secret, app["apiKey"]).ok());
  CHECK(ann.call("GET", path).body["data"]["apiKeyPreview"] == "ph_live_api_\xe2\x80\xa6" + new_key.substr(new_key.size() - 4));

  const std::string new_webhook = ann.call("POST", path + "/rotate/webhook_secret").body["data"]["value"];
  CHECK(std::regex_match(new_webhook, std::regex("whsec_[0-9a-f]{48}")));
  CHECK(ann.call("GET", path + "/webhook-secret").body["data"]["webhookSecret"] == new_webhook);
  CHECK(server.application().runtime().applications().webhook_secrets(app["id"]) == std::vector<std::string>{new_webhook});
}

TEST_CASE("rotation with graceSeconds keeps the old value alive until the grace ends") {
  testing::TestServer server;
  Console ann(server, "ann@example.com");
  const json app = ann.app(ann.project());
  const std::string path = "/v1/applications/" + app["id"].get<std::string>();

  const std::string new_key = ann.call("POST", path + "/rotate/api", {{"graceSeconds", 60}}).body["data"]["value"];
  const std::string new_secret = ann.call("POST", path + "/rotate/secret", {{"graceSeconds", 60}}).body["data"]["value"];
  const std::string new_webhook =
      ann.call("POST", path + "/rotate/webhook_secret", {{"graceSeconds", 60}}).body["data"]["value"];
  for (const auto& key : {app["apiKey"].get<std::string>(), new_key}) {
    for (const auto& secret : {app["clientSecret"].get<std::string>(), new_secret}) {
      CHECK(app_auth(server, app["clientId"], secret, key).ok());
    }
  }
  CHECK(server.application().runtime().applications().webhook_secrets(app["id"]) ==
        std::vector<std::string>{new_webhook, app["webhookSecret"].get<std::string>()});
  CHECK(ann.call("GET", path + "/webhook-secret").body["data"]["webhookSecret"] == new_webhook);

  server.clock().advance(60s);
  CHECK_FALSE(app_auth(server, app["clientId"], app["clientSecret"], new_key).ok());
  CHECK_FALSE(app_auth(server, app["clientId"], new_secret, app["apiKey"]).ok());
  CHECK(app_auth(server, app["clientId"], new_secret, new_key).ok());
  CHECK(server.application().runtime().applications().webhook_secrets(app["id"]) == std::vector<std::string>{new_webhook});
}

TEST_CASE("rotation refuses bad input") {
  testing::TestServer server;
  Console ann(server, "ann@example.com");
  const std::string path = "/v1/applications/" + ann.app(ann.project())["id"].get<std::string>();
  CHECK(ann.call("POST", path + "/rotate/password").status == 404);
  CHECK(ann.call("POST", path + "/rotate/secret", {{"graceSeconds", 86401}}).status == 400);
  CHECK(ann.call("POST", path + "/rotate/secret", {{"graceSeconds", -1}}).status == 400);
  CHECK(ann.call("POST", path + "/rotate/secret", {{"graceSeconds", "60"}}).status == 400);
  CHECK(ann.call("POST", path + "/rotate/secret", {{"graceSeconds", 1.5}}).status == 400);
  CHECK(ann.call("POST", "/v1/applications/unknown/rotate/secret").status == 404);
  CHECK(ann.call("GET", "/v1/applications/unknown/webhook-secret").status == 404);
  CHECK(ann.call("GET", path + "/rotate/secret").status == 405);
}

TEST_CASE("no plaintext secret, key or webhook secret is in the database file") {
  testing::TestServer server;
  Console ann(server, "ann@example.com");
  const json app = ann.app(ann.project());
  const std::string path = "/v1/applications/" + app["id"].get<std::string>();
  std::vector<std::string> secrets = {app["clientSecret"], app["apiKey"], app["webhookSecret"]};
  for (const char* type : {"secret", "api", "webhook_secret"}) {
    secrets.push_back(ann.call("POST", path + "/rotate/" + type, {{"graceSeconds", 600}}).body["data"]["value"]);
  }
  const std::string bytes = testing::stored_bytes(server);
  REQUIRE(bytes.find(app["clientId"].get<std::string>()) != std::string::npos);  // the check can see text
  for (const auto& secret : secrets) {
    CAPTURE(secret);
    CHECK(bytes.find(secret) == std::string::npos);
    CHECK(bytes.find(secret.substr(secret.size() - 48)) == std::string::npos);  // not even the hex part
  }
}
