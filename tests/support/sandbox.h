// A developer with a project and applications on a TestServer, and the calls a customer's
// backend (app auth) and console (bearer token) make. For OTP, webhook and analytics tests.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/test_server.h"

namespace testing {

struct AppCredentials {
  std::string id;
  std::string client_id;
  std::string client_secret;
  std::string api_key;
  std::string webhook_secret;
  httplib::Headers headers() const {
    return {{"x-client-id", client_id}, {"x-client-secret", client_secret}, {"x-api-key", api_key}};
  }
};

// A server whose OTP limits (per app, per phone, wrong codes) never get in a test's way.
TestServerOptions generous_limits();

class Sandbox {
 public:
  Sandbox(TestServer& server, const std::string& email, const std::string& plan = "unlimited");

  AppCredentials create_app(const std::string& environment = "test", const std::string& name = "Demo");

  // Console call with a fresh token of this developer (tests move the clock freely).
  Exchange console(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr);
  // App-auth calls.
  Exchange send(const AppCredentials& app, const std::string& phone);
  Exchange verify(const AppCredentials& app, const std::string& request_id, const nlohmann::json& code);

  TestServer& server;
  httplib::Client client;
  httplib::Headers auth;  // a token from creation time
  std::string email;
  std::string project_id;
};

}  // namespace testing
