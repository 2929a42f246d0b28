#include "app/application.h"

#include "app/http/routes.h"

namespace app {

Application::Application(const Config& config, Environment env)
    : env_(std::move(env)), runtime_(config, env_.clock, env_.random) {
  auto probe = env_.storage_probe ? env_.storage_probe : [db = &runtime_.database()] { return db->ping(); };
  health_ = std::make_unique<core::HealthService>(env_.clock, std::move(probe), COBINAR_VERSION);
  router_ = std::make_unique<http::Router>(http::make_routes(
      {*health_, runtime_.accounts(), runtime_.projects(), runtime_.applications(), runtime_.otp(),
                         runtime_.webhooks(), runtime_.analytics()}), env_.log);
  server_ = std::make_unique<http::HttpServer>(config.http, *router_, env_.log, env_.random);
}

Application::~Application() {
  if (retention_) retention_->stop();
  runtime_.delivery().stop();
  runtime_.webhook_engine().stop();
}

void Application::run() {
  runtime_.delivery().start();
  runtime_.webhook_engine().start();
  const auto retention = std::chrono::days(runtime_.config().retention_days);
  retention_ = std::make_unique<core::PeriodicTask>(std::chrono::hours(1), [this, retention] {
    try {
      const int removed = runtime_.otp().purge_history(retention);
      if (removed > 0) env_.log.info("retention purge", {{"rows", removed}});
    } catch (const std::exception& e) {
      env_.log.error("retention purge failed", {{"what", e.what()}});
    }
  });
  retention_->start();
  server_->run();
  // In-flight requests are done; let queued deliveries wait for the next start (they are durable).
  retention_->stop();
  runtime_.delivery().stop();
  runtime_.webhook_engine().stop();
}

}  // namespace app
