// Projects: every endpoint's success, validation, not-found, pagination and plan limit.
#include <doctest/doctest.h>

#include "tests/support/console.h"

using namespace std::chrono_literals;
using nlohmann::json;
using testing::perform;

using testing::Console;

TEST_CASE("projects: create, get, list, patch, delete") {
  testing::TestServer server;
  Console ann(server, "ann@example.com");

  const auto created = ann.call("POST", "/v1/projects", {{"name", "Shop"}, {"description", "Web shop"}});
  REQUIRE(created.status == 201);
  const json project = created.body["data"];
  CHECK(project["name"] == "Shop");
  CHECK(project["description"] == "Web shop");
  CHECK(project["applicationCount"] == 0);
  CHECK(project["createdAt"] == "2026-07-03T14:22:10.000Z");
  CHECK(project["updatedAt"] == project["createdAt"]);
  const std::string id = project["id"];

  CHECK(ann.call("GET", "/v1/projects/" + id).body["data"] == project);
  CHECK(ann.call("POST", "/v1/projects", {{"name", "No description"}}).body["data"]["description"] == "");

  server.clock().advance(2s);
  const auto patched = ann.call("PATCH", "/v1/projects/" + id, {{"description", ""}});
  REQUIRE(patched.status == 200);
  CHECK(patched.body["data"]["name"] == "Shop");
  CHECK(patched.body["data"]["description"] == "");
  CHECK(patched.body["data"]["updatedAt"] == "2026-07-03T14:22:12.000Z");

  const auto removed = ann.call("DELETE", "/v1/projects/" + id);
  CHECK(removed.status == 200);
  CHECK(removed.body["data"] == json{{"id", id}, {"deleted", true}});
  CHECK(ann.call("GET", "/v1/projects/" + id).status == 404);
  CHECK(ann.call("DELETE", "/v1/projects/" + id).status == 404);
  CHECK(ann.call("PATCH", "/v1/projects/" + id, {{"name", "x"}}).status == 404);
}

TEST_CASE("projects: every field is validated and all problems are reported together") {
  testing::TestServer server;
  Console ann(server, "ann@example.com");
  const auto bad = ann.call("POST", "/v1/projects", {{"name", ""}, {"description", std::string(281, 'd')}});
  CHECK(bad.status == 400);
  CHECK(bad.body["error"]["details"]["fields"].size() == 2);
  struct Case {
    json body;
    std::string field;
  };
  for (const auto& c : std::vector<Case>{{json::object(), "name"},
                                         {{{"name", std::string(101, 'n')}}, "name"},
                                         {{{"name", 5}}, "name"},
                                         {{{"name", nullptr}}, "name"},
                                         {{{"name", "ok"}, {"description", false}}, "description"}}) {
    CAPTURE(c.body.dump());
    const auto refused = ann.call("POST", "/v1/projects", c.body);
    CHECK(refused.status == 400);
    CHECK(refused.body["error"]["details"]["fields"].contains(c.field));
  }
  CHECK(ann.call("POST", "/v1/projects", {{"name", std::string(100, 'n')}, {"description", std::string(280, 'd')}}).status == 201);
  const std::string id = ann.call("POST", "/v1/projects", {{"name", "p"}}).body["data"]["id"];
  CHECK(ann.call("PATCH", "/v1/projects/" + id, {{"name", ""}}).status == 400);
  CHECK(perform(ann.client, "PATCH", "/v1/projects/" + id, "{bad", "application/json", ann.auth).status == 400);
  CHECK(perform(ann.client, "POST", "/v1/projects", R"({"name":"x"})", "text/plain", ann.auth).status == 415);
  CHECK(perform(ann.client, "GET", "/v1/projects").status == 401);
}

TEST_CASE("projects: newest first, cursor pagination without gaps or repeats, limit rules") {
  testing::TestServer server({[](app::Config& config) { config.default_plan = "unlimited"; }, nullptr});
  Console ann(server, "ann@example.com");
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(ann.call("POST", "/v1/projects", {{"name", "p" + std::to_string(i)}}).body["data"]["id"]);
  std::reverse(ids.begin(), ids.end());

  std::vector<std::string> seen;
  std::string path = "/v1/projects?limit=3";
  for (int pages = 0; pages < 10; ++pages) {
    const auto page = ann.call("GET", path);
    REQUIRE(page.status == 200);
    for (const auto& p : page.body["data"]) seen.push_back(p["id"]);
    if (page.body["nextCursor"].is_null()) break;
    path = "/v1/projects?limit=3&cursor=" + page.body["nextCursor"].get<std::string>();
  }
  CHECK(seen == ids);

  const auto all = ann.call("GET", "/v1/projects");
  CHECK(all.body["data"].size() == 7);
  CHECK(all.body["nextCursor"].is_null());
  CHECK(ann.call("GET", "/v1/projects?limit=7").body["nextCursor"].is_null());
  CHECK(ann.call("GET", "/v1/projects?limit=100000").status == 200);
  for (const char* bad : {"limit=0", "limit=-1", "limit=abc", "limit=", "cursor=%21%21", "cursor=bm9wZQ"}) {
    CAPTURE(bad);
    const auto refused = ann.call("GET", std::string("/v1/projects?") + bad);
    CHECK(refused.status == 400);
    CHECK(refused.body["error"]["code"] == "INVALID_ARGUMENT");
  }
}

TEST_CASE("projects: the plan's limit is 403 PLAN_LIMIT_EXCEEDED and deleting frees a slot") {
  testing::TestServer server({[](app::Config& config) { config.plans = {"tiny:2:1"}; }, nullptr});
  Console ann(server, "ann@example.com", "tiny");
  const std::string first = ann.call("POST", "/v1/projects", {{"name", "a"}}).body["data"]["id"];
  CHECK(ann.call("POST", "/v1/projects", {{"name", "b"}}).status == 201);
  const auto refused = ann.call("POST", "/v1/projects", {{"name", "c"}});
  CHECK(refused.status == 403);
  CHECK(refused.body["error"]["code"] == "PLAN_LIMIT_EXCEEDED");
  CHECK(refused.body["error"]["details"]["limit"] == 2);
  CHECK(ann.call("DELETE", "/v1/projects/" + first).status == 200);
  CHECK(ann.call("POST", "/v1/projects", {{"name", "c"}}).status == 201);
  // Another developer's count is separate.
  Console bob(server, "bob@example.com", "tiny");
  CHECK(bob.call("POST", "/v1/projects", {{"name", "a"}}).status == 201);
}

TEST_CASE("projects: the free plan allows 10, and parallel creates cannot overshoot") {
  testing::TestServer server;
  Console ann(server, "ann@example.com");
  std::vector<std::thread> threads;
  std::atomic<int> created{0}, limited{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto client = server.client();
      for (int i = 0; i < 5; ++i) {
        const auto r = perform(client, "POST", "/v1/projects", json{{"name", std::to_string(t * 10 + i)}}.dump(),
                               "application/json", ann.auth);
        (r.status == 201 ? created : limited)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(created == 10);
  CHECK(limited == 10);
}

TEST_CASE("deleting a project that still has applications is 409 CONFLICT") {
  testing::TestServer server;
  Console ann(server, "ann@example.com");
  const std::string project = ann.call("POST", "/v1/projects", {{"name", "p"}}).body["data"]["id"];
  const std::string app = ann.call("POST", "/v1/applications", {{"name", "a"}, {"projectId", project}, {"environment", "test"}})
                              .body["data"]["id"];
  CHECK(ann.call("GET", "/v1/projects/" + project).body["data"]["applicationCount"] == 1);
  const auto refused = ann.call("DELETE", "/v1/projects/" + project);
  CHECK(refused.status == 409);
  CHECK(refused.body["error"]["code"] == "CONFLICT");
  CHECK(ann.call("DELETE", "/v1/applications/" + app).status == 200);
  CHECK(ann.call("DELETE", "/v1/projects/" + project).status == 200);
}
