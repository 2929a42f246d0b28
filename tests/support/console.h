// A developer's console session on a TestServer: a bearer token and the calls the console
// makes, plus shortcuts to create a project and an application. For the API tests.
#pragma once

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/test_server.h"

namespace testing {

struct Console {
  TestServer& server;
  httplib::Client client;
  httplib::Headers auth;

  Console(TestServer& s, const std::string& email, const std::string& plan = "")
      : server(s), client(s.client()), auth(bearer(s.create_developer(email, plan))) {}

  Exchange call(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr) {
    return perform(client, method, path, body.is_null() ? "" : body.dump(), "application/json", auth);
  }
  std::string project(const std::string& name = "p") { return call("POST", "/v1/projects", {{"name", name}}).body["data"]["id"]; }
  nlohmann::json app(const std::string& project_id, const std::string& environment = "live", const std::string& name = "a") {
    const auto created = call("POST", "/v1/applications", {{"name", name}, {"projectId", project_id}, {"environment", environment}});
    REQUIRE_MESSAGE(created.status == 201, created.raw_body);
    return created.body["data"];
  }
};

}  // namespace testing
