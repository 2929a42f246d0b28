#include "app/http/guard.h"
#include "app/http/handlers.h"
#include "app/http/json_body.h"
#include "app/http/render.h"

namespace app::http {

namespace {

// Parses the JSON body, calls `action(body)` and renders the session it returns.
template <typename Action>
Handler session_handler(Action action, int status) {
  return [action, status](const HttpRequest& request) -> core::Result<Reply> {
    auto body = json_object_body(request);
    if (!body.ok()) return body.error();
    auto session = action(body.value(), request);
    if (!session.ok()) return session.error();
    return Reply::data(session_json(session.value()), status);
  };
}

}  // namespace

Handler auth_signup(core::AccountService& accounts) {
  return session_handler([&accounts](const nlohmann::json& body, const HttpRequest&) { return accounts.signup(body); },
                         201);
}

Handler auth_login(core::AccountService& accounts) {
  return session_handler(
      [&accounts](const nlohmann::json& body, const HttpRequest& request) {
        return accounts.login(body, request.raw.remote_addr);
      },
      200);
}

Handler auth_refresh(core::AccountService& accounts) {
  return session_handler([&accounts](const nlohmann::json& body, const HttpRequest&) { return accounts.refresh(body); },
                         200);
}

Handler auth_logout(core::AccountService& accounts) {
  return [&accounts](const HttpRequest& request) -> core::Result<Reply> {
    auto body = json_object_body(request);
    if (!body.ok()) return body.error();
    auto done = accounts.logout(body.value());
    if (!done.ok()) return done.error();
    return Reply::data({{"loggedOut", true}});
  };
}

Handler developer_me_get(core::AccountService& accounts) {
  return [&accounts](const HttpRequest& request) -> core::Result<Reply> {
    auto developer = console_developer(request, accounts);
    if (!developer.ok()) return developer.error();
    return Reply::data(developer_json(developer.value()));
  };
}

Handler developer_me_patch(core::AccountService& accounts) {
  return [&accounts](const HttpRequest& request) -> core::Result<Reply> {
    auto developer = console_developer(request, accounts);
    if (!developer.ok()) return developer.error();
    auto body = json_object_body(request);
    if (!body.ok()) return body.error();
    auto updated = accounts.update_profile(developer.value(), body.value());
    if (!updated.ok()) return updated.error();
    return Reply::data(developer_json(updated.value()));
  };
}

}  // namespace app::http
