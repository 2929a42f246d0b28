// Two developers against each other on every endpoint: another developer's id must behave
// exactly like an id that does not exist, and nothing of theirs may change.
#include <doctest/doctest.h>

#include "tests/support/test_server.h"

using nlohmann::json;
using testing::perform;

TEST_CASE("another developer's projects and applications are indistinguishable from unknown ids") {
  testing::TestServer server;
  auto client = server.client();
  const auto ann = testing::bearer(server.create_developer("ann@example.com"));
  const auto bob = testing::bearer(server.create_developer("bob@example.com"));
  auto call = [&](const httplib::Headers& who, const std::string& method, const std::string& path, const json& body = nullptr) {
    return perform(client, method, path, body.is_null() ? "" : body.dump(), "application/json", who);
  };

  const std::string bob_project = call(bob, "POST", "/v1/projects", {{"name", "bob's"}}).body["data"]["id"];
  const json bob_app_created =
      call(bob, "POST", "/v1/applications", {{"name", "bob app"}, {"projectId", bob_project}, {"environment", "live"}})
          .body["data"];
  const std::string bob_app = bob_app_created["id"];
  const std::string ann_project = call(ann, "POST", "/v1/projects", {{"name", "ann's"}}).body["data"]["id"];
  const std::string ann_app =
      call(ann, "POST", "/v1/applications", {{"name", "ann app"}, {"projectId", ann_project}, {"environment", "live"}})
          .body["data"]["id"];
  const json bob_project_before = call(bob, "GET", "/v1/projects/" + bob_project).body;
  const json bob_app_before = call(bob, "GET", "/v1/applications/" + bob_app).body;

  const std::string missing = "01900000-0000-7000-8000-000000000000";
  struct Probe {
    std::string method;
    std::string path_template;  // {id} = the probed id
    json body;
  };
  const std::vector<Probe> project_probes = {
      {"GET", "/v1/projects/{id}", nullptr},
      {"PATCH", "/v1/projects/{id}", {{"name", "taken over"}}},
      {"DELETE", "/v1/projects/{id}", nullptr},
      {"GET", "/v1/applications?projectId={id}", nullptr},
      {"POST", "/v1/applications", {{"name", "x"}, {"projectId", "{id}"}, {"environment", "live"}}},
      {"PATCH", "/v1/applications/" + ann_app, {{"projectId", "{id}"}}},
  };
  const std::vector<Probe> app_probes = {
      {"GET", "/v1/applications/{id}", nullptr},
      {"PATCH", "/v1/applications/{id}", {{"status", "disabled"}}},
      {"POST", "/v1/applications/{id}/rotate/secret", nullptr},
      {"POST", "/v1/applications/{id}/rotate/api", {{"graceSeconds", 10}}},
      {"POST", "/v1/applications/{id}/rotate/webhook_secret", nullptr},
      {"GET", "/v1/applications/{id}/webhook-secret", nullptr},
      {"DELETE", "/v1/applications/{id}", nullptr},
  };
  auto fill = [](std::string text, const std::string& id) {
    for (auto at = text.find("{id}"); at != std::string::npos; at = text.find("{id}")) text.replace(at, 4, id);
    return text;
  };
  auto probe = [&](const Probe& p, const std::string& id) {
    const json body = p.body.is_null() ? json(nullptr) : json::parse(fill(p.body.dump(), id));
    auto exchange = call(ann, p.method, fill(p.path_template, id), body);
    exchange.body["error"].erase("requestId");
    return exchange;
  };
  for (const auto& [probes, foreign] : {std::pair{project_probes, bob_project}, std::pair{app_probes, bob_app}}) {
    for (const auto& p : probes) {
      CAPTURE(p.method + " " + p.path_template);
      const auto against_foreign = probe(p, foreign);
      const auto against_missing = probe(p, missing);
      CHECK(against_foreign.status == 404);
      CHECK(against_foreign.body["error"]["code"] == "NOT_FOUND");
      CHECK(against_foreign.status == against_missing.status);
      CHECK(against_foreign.body == against_missing.body);
    }
  }

  // Lists show only one's own.
  const auto ann_projects = call(ann, "GET", "/v1/projects").body["data"];
  REQUIRE(ann_projects.size() == 1);
  CHECK(ann_projects[0]["id"] == ann_project);
  const auto ann_apps = call(ann, "GET", "/v1/applications").body["data"];
  REQUIRE(ann_apps.size() == 1);
  CHECK(ann_apps[0]["id"] == ann_app);

  // Nothing of Bob's changed, and his credentials still work.
  CHECK(call(bob, "GET", "/v1/projects/" + bob_project).body["data"] == bob_project_before["data"]);
  CHECK(call(bob, "GET", "/v1/applications/" + bob_app).body["data"] == bob_app_before["data"]);
  CHECK(server.application().runtime().applications().authenticate(
            bob_app_created["clientId"].get<std::string>(), bob_app_created["clientSecret"].get<std::string>(),
            bob_app_created["apiKey"].get<std::string>()).ok());
  CHECK(call(bob, "GET", "/v1/applications/" + bob_app + "/webhook-secret").body["data"]["webhookSecret"] ==
        bob_app_created["webhookSecret"]);
}
