#include "app/http/guard.h"
#include "app/http/handlers.h"
#include "app/http/json_body.h"
#include "app/http/render.h"

namespace app::http {

Handler applications_list(core::AccountService& accounts, core::ApplicationService& applications) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto page = core::parse_page(query_param(request, "limit"), query_param(request, "cursor"));
    if (!page.ok()) return page.error();
    auto result = applications.list(owner.value(), query_param(request, "projectId"), page.value());
    if (!result.ok()) return result.error();
    return Reply::list(page_items(result.value(), application_json), result.value().next_cursor);
  };
}

Handler applications_create(core::AccountService& accounts, core::ApplicationService& applications) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto body = json_object_body(request);
    if (!body.ok()) return body.error();
    auto created = applications.create(owner.value(), body.value());
    if (!created.ok()) return created.error();
    return Reply::data(created_application_json(created.value()), 201);
  };
}

Handler applications_get(core::AccountService& accounts, core::ApplicationService& applications) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto application = applications.get(owner.value(), request.path_params.at(0));
    if (!application.ok()) return application.error();
    return Reply::data(application_json(application.value()));
  };
}

Handler applications_update(core::AccountService& accounts, core::ApplicationService& applications) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto body = json_object_body(request);
    if (!body.ok()) return body.error();
    auto application = applications.update(owner.value(), request.path_params.at(0), body.value());
    if (!application.ok()) return application.error();
    return Reply::data(application_json(application.value()));
  };
}

Handler applications_delete(core::AccountService& accounts, core::ApplicationService& applications) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto removed = applications.remove(owner.value(), request.path_params.at(0));
    if (!removed.ok()) return removed.error();
    return Reply::deleted(request.path_params.at(0));
  };
}

Handler applications_rotate(core::AccountService& accounts, core::ApplicationService& applications) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto body = optional_json_object_body(request);
    if (!body.ok()) return body.error();
    auto rotation = applications.rotate(owner.value(), request.path_params.at(0), request.path_params.at(1), body.value());
    if (!rotation.ok()) return rotation.error();
    return Reply::data({{"type", rotation.value().type},
                        {"value", rotation.value().value},
                        {"rotatedAt", rotation.value().rotated_at}});
  };
}

Handler applications_webhook_secret(core::AccountService& accounts, core::ApplicationService& applications) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto secret = applications.webhook_secret(owner.value(), request.path_params.at(0));
    if (!secret.ok()) return secret.error();
    return Reply::data({{"webhookSecret", secret.value()}});
  };
}

Handler applications_policy_get(core::AccountService& accounts, core::ApplicationService& applications) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto policy = applications.policy(owner.value(), request.path_params.at(0));
    if (!policy.ok()) return policy.error();
    return Reply::data(policy_json(policy.value()));
  };
}

Handler applications_policy_put(core::AccountService& accounts, core::ApplicationService& applications) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto body = json_object_body(request);
    if (!body.ok()) return body.error();
    auto policy = applications.put_policy(owner.value(), request.path_params.at(0), body.value());
    if (!policy.ok()) return policy.error();
    return Reply::data(policy_json(policy.value()));
  };
}

Handler applications_policy_simulate(core::AccountService& accounts, core::AbuseGuard& abuse) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto body = json_object_body(request);
    if (!body.ok()) return body.error();
    auto result = abuse.simulate(owner.value(), request.path_params.at(0), body.value());
    if (!result.ok()) return result.error();
    return Reply::data(simulation_json(result.value()));
  };
}

Handler applications_blocks_list(core::AccountService& accounts, core::AbuseGuard& abuse) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto blocks = abuse.blocks(owner.value(), request.path_params.at(0));
    if (!blocks.ok()) return blocks.error();
    nlohmann::json list = nlohmann::json::array();
    for (const auto& block : blocks.value()) list.push_back(block_json(block));
    return Reply::data(std::move(list));
  };
}

Handler applications_blocks_lift(core::AccountService& accounts, core::AbuseGuard& abuse) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto lifted = abuse.lift(owner.value(), request.path_params.at(0), request.path_params.at(1));
    if (!lifted.ok()) return lifted.error();
    return Reply::data({{"deleted", true}});
  };
}

}  // namespace app::http
