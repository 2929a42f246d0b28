#include "app/http/guard.h"
#include "app/http/handlers.h"
#include "app/http/json_body.h"
#include "app/http/render.h"

namespace app::http {

Handler webhooks_list(core::AccountService& accounts, core::WebhookService& webhooks) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto page = core::parse_page(query_param(request, "limit"), query_param(request, "cursor"));
    if (!page.ok()) return page.error();
    auto result = webhooks.list(owner.value(), query_param(request, "appId"), page.value());
    if (!result.ok()) return result.error();
    return Reply::list(page_items(result.value(), webhook_json), result.value().next_cursor);
  };
}

Handler webhooks_create(core::AccountService& accounts, core::WebhookService& webhooks) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto body = json_object_body(request);
    if (!body.ok()) return body.error();
    auto created = webhooks.create(owner.value(), body.value());
    if (!created.ok()) return created.error();
    return Reply::data(webhook_json(created.value()), 201);
  };
}

Handler webhooks_get(core::AccountService& accounts, core::WebhookService& webhooks) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto found = webhooks.get(owner.value(), request.path_params.at(0));
    if (!found.ok()) return found.error();
    return Reply::data(webhook_json(found.value()));
  };
}

Handler webhooks_update(core::AccountService& accounts, core::WebhookService& webhooks) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto body = json_object_body(request);
    if (!body.ok()) return body.error();
    auto updated = webhooks.update(owner.value(), request.path_params.at(0), body.value());
    if (!updated.ok()) return updated.error();
    return Reply::data(webhook_json(updated.value()));
  };
}

Handler webhooks_delete(core::AccountService& accounts, core::WebhookService& webhooks) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto removed = webhooks.remove(owner.value(), request.path_params.at(0));
    if (!removed.ok()) return removed.error();
    return Reply::deleted(request.path_params.at(0));
  };
}

Handler webhooks_test(core::AccountService& accounts, core::WebhookService& webhooks) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto sent = webhooks.send_test(owner.value(), request.path_params.at(0));
    if (!sent.ok()) return sent.error();
    return Reply::data({{"delivered", sent.value().delivered},
                        {"statusCode", sent.value().status_code ? nlohmann::json(*sent.value().status_code) : nlohmann::json(nullptr)}});
  };
}

Handler webhooks_deliveries(core::AccountService& accounts, core::WebhookService& webhooks) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto page = core::parse_page(query_param(request, "limit"), query_param(request, "cursor"));
    if (!page.ok()) return page.error();
    auto result = webhooks.deliveries(owner.value(), request.path_params.at(0), page.value());
    if (!result.ok()) return result.error();
    return Reply::list(page_items(result.value(), delivery_json), result.value().next_cursor);
  };
}

Handler webhooks_retry(core::AccountService& accounts, core::WebhookService& webhooks) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto delivery = webhooks.retry(owner.value(), request.path_params.at(0), request.path_params.at(1));
    if (!delivery.ok()) return delivery.error();
    return Reply::data(delivery_json(delivery.value()));
  };
}

}  // namespace app::http
