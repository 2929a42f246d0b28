#include "app/application.h"

#include "app/http/routes.h"

namespace app {

Application::Application(const Config& config, Environment env)
    : env_(std::move(env)), runtime_(config, env_.clock, env_.random) {
  auto probe = env_.storage_probe ? env_.storage_probe : [db = &runtime_.database()] { return db->ping(); };
  health_ = std::make_unique<core::HealthService>(env_.clock, std::move(probe), COBINAR_VERSION);
  router_ = std::make_unique<http::Router>(http::make_routes({*health_, runtime_.accounts(), runtime_.projects(), runtime_.applications()}), env_.log);
  server_ = std::make_unique<http::HttpServer>(config.http, *router_, env_.log, env_.random);
}

Application::~Application() = default;

}  // namespace app
