#include "app/http/guard.h"
#include "app/http/handlers.h"
#include "app/http/json_body.h"
#include "app/http/render.h"

namespace app::http {

Handler projects_list(core::AccountService& accounts, core::ProjectService& projects) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto page = core::parse_page(query_param(request, "limit"), query_param(request, "cursor"));
    if (!page.ok()) return page.error();
    auto result = projects.list(owner.value(), page.value());
    if (!result.ok()) return result.error();
    return Reply::list(page_items(result.value(), project_json), result.value().next_cursor);
  };
}

Handler projects_create(core::AccountService& accounts, core::ProjectService& projects) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto body = json_object_body(request);
    if (!body.ok()) return body.error();
    auto project = projects.create(owner.value(), body.value());
    if (!project.ok()) return project.error();
    return Reply::data(project_json(project.value()), 201);
  };
}

Handler projects_get(core::AccountService& accounts, core::ProjectService& projects) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto project = projects.get(owner.value(), request.path_params.at(0));
    if (!project.ok()) return project.error();
    return Reply::data(project_json(project.value()));
  };
}

Handler projects_update(core::AccountService& accounts, core::ProjectService& projects) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto body = json_object_body(request);
    if (!body.ok()) return body.error();
    auto project = projects.update(owner.value(), request.path_params.at(0), body.value());
    if (!project.ok()) return project.error();
    return Reply::data(project_json(project.value()));
  };
}

Handler projects_delete(core::AccountService& accounts, core::ProjectService& projects) {
  return [&](const HttpRequest& request) -> core::Result<Reply> {
    auto owner = console_developer(request, accounts);
    if (!owner.ok()) return owner.error();
    auto removed = projects.remove(owner.value(), request.path_params.at(0));
    if (!removed.ok()) return removed.error();
    return Reply::deleted(request.path_params.at(0));
  };
}

}  // namespace app::http
