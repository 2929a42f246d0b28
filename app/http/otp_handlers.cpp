#include "app/http/guard.h"
#include "app/http/handlers.h"
#include "app/http/json_body.h"
#include "app/http/render.h"

namespace app::http {

Handler otp_send(core::ApplicationService& applications, core::OtpService& otp) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto app = app_credentials(request, applications);
    if (!app.ok()) return app.error();
    auto body = json_object_body(request);
    if (!body.ok()) return body.error();
    auto sent = otp.send(app.value(), body.value());
    if (!sent.ok()) return sent.error();
    return Reply::data(send_json(sent.value()), 201);
  };
}

Handler otp_verify(core::ApplicationService& applications, core::OtpService& otp) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto app = app_credentials(request, applications);
    if (!app.ok()) return app.error();
    auto body = json_object_body(request);
    if (!body.ok()) return body.error();
    auto verified = otp.verify(app.value(), body.value());
    if (!verified.ok()) return verified.error();
    return Reply::data(verify_json(verified.value()));
  };
}

Handler otp_list(core::AccountService& accounts, core::OtpService& otp) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto page = core::parse_page(query_param(request, "limit"), query_param(request, "cursor"));
    if (!page.ok()) return page.error();
    auto result = otp.list(owner.value(), query_param(request, "appId"), query_param(request, "status"), page.value());
    if (!result.ok()) return result.error();
    return Reply::list(page_items(result.value(), otp_json), result.value().next_cursor);
  };
}

Handler otp_get(core::AccountService& accounts, core::OtpService& otp) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto found = otp.get(owner.value(), request.path_params.at(0));
    if (!found.ok()) return found.error();
    return Reply::data(otp_json(found.value()));
  };
}

Handler inbox_list(core::AccountService& accounts, core::OtpService& otp) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto page = core::parse_page(query_param(request, "limit"), query_param(request, "cursor"));
    if (!page.ok()) return page.error();
    auto result = otp.inbox(owner.value(), query_param(request, "appId"), query_param(request, "phone"), page.value());
    if (!result.ok()) return result.error();
    return Reply::list(page_items(result.value(), inbox_json), result.value().next_cursor);
  };
}

Handler users_list(core::AccountService& accounts, core::OtpService& otp) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto page = core::parse_page(query_param(request, "limit"), query_param(request, "cursor"));
    if (!page.ok()) return page.error();
    auto result = otp.identities(owner.value(), page.value());
    if (!result.ok()) return result.error();
    return Reply::list(page_items(result.value(), identity_json), result.value().next_cursor);
  };
}

namespace {

// Console auth, or the API key alone (scoped to the key's developer): the developer's id.
core::Result<std::string> developer_or_api_key(const HttpRequest& request, core::AccountService& accounts,
                                               core::ApplicationService& applications) {
  if (request.raw.has_header("Authorization") || !request.raw.has_header("x-api-key")) {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    return owner.value().id;
  }
  auto app = applications.authenticate_api_key(request.raw.get_header_value("x-api-key"));
  if (!app.ok()) return app.error();
  return app.value().developer_id;
}

}  // namespace

Handler users_get(core::AccountService& accounts, core::ApplicationService& applications, core::OtpService& otp) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto developer_id = developer_or_api_key(request, accounts, applications);
    if (!developer_id.ok()) return developer_id.error();
    auto identity = otp.identity(developer_id.value(), request.path_params.at(0));
    if (!identity.ok()) return identity.error();
    return Reply::data(identity_json(identity.value()));
  };
}

Handler phone_numbers_get(core::AccountService& accounts, core::ApplicationService& applications, core::OtpService& otp) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto developer_id = developer_or_api_key(request, accounts, applications);
    if (!developer_id.ok()) return developer_id.error();
    auto info = otp.lookup_phone(request.path_params.at(0), query_param(request, "region"));
    if (!info.ok()) return info.error();
    return Reply::data(phone_lookup_json(info.value()));
  };
}

}  // namespace app::http
