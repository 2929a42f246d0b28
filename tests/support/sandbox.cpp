#include "tests/support/sandbox.h"

#include <doctest/doctest.h>

namespace testing {

TestServerOptions generous_limits() {
  return {[](app::Config& config) {
            config.otp.send_rate_limit = config.otp.verify_rate_limit = config.otp.phone_send_limit = 100000;
            config.otp.phone_failure_limit = 100000;
          },
          nullptr};
}

Sandbox::Sandbox(TestServer& s, const std::string& developer_email, const std::string& plan)
    : server(s), client(s.client()), auth(bearer(s.create_developer(developer_email, plan))), email(developer_email) {
  const auto project = console("POST", "/v1/projects", {{"name", "Sandbox"}});
  REQUIRE(project.status == 201);
  project_id = project.body["data"]["id"];
}

AppCredentials Sandbox::create_app(const std::string& environment, const std::string& name) {
  const auto created =
      console("POST", "/v1/applications", {{"name", name}, {"projectId", project_id}, {"environment", environment}});
  REQUIRE_MESSAGE(created.status == 201, created.raw_body);
  const auto& d = created.body["data"];
  return {d["id"], d["clientId"], d["clientSecret"], d["apiKey"], d["webhookSecret"]};
}

Exchange Sandbox::console(const std::string& method, const std::string& path, const nlohmann::json& body) {
  auto token = server.application().runtime().accounts().issue_token(email);
  REQUIRE(token.ok());
  return perform(client, method, path, body.is_null() ? "" : body.dump(), "application/json", bearer(token.value()));
}

Exchange Sandbox::send(const AppCredentials& app, const std::string& phone) {
  return perform(client, "POST", "/v1/otp/send", nlohmann::json{{"phone", phone}}.dump(), "application/json",
                 app.headers());
}

Exchange Sandbox::verify(const AppCredentials& app, const std::string& request_id, const nlohmann::json& code) {
  return perform(client, "POST", "/v1/otp/verify", nlohmann::json{{"requestId", request_id}, {"code", code}}.dump(),
                 "application/json", app.headers());
}

}  // namespace testing
