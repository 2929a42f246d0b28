#include "app/application.h"

#include "app/http/routes.h"

namespace app {

Application::Application(const Config& config, Environment env)
    : env_(std::move(env)), runtime_(config, env_.clock, env_.random) {
  runtime_.monitor().set_sink([&log = env_.log](const core::ComponentMonitor::LogLine& line) {
    const auto& failure = line.failure;
    if (line.recovered) {
      log.info("component recovered", {{"component", failure.component}, {"kind", failure.kind},
                                       {"failures", failure.count}, {"since", failure.since}});
      return;
    }
    const LogLevel level = failure.impact == core::Impact::kDegraded ? LogLevel::kError : LogLevel::kWarn;
    if (line.held_back > 0) {
      log.write(level, "component failing", {{"component", failure.component}, {"kind", failure.kind},
                                             {"reason", failure.reason}, {"repeated", line.held_back}});
    } else {
      log.write(level, "component failing",
                {{"component", failure.component}, {"kind", failure.kind}, {"reason", failure.reason}});
    }
  });
  auto probe = env_.storage_probe ? env_.storage_probe : [db = &runtime_.database()] { return db->ping(); };
  health_ = std::make_unique<core::HealthService>(env_.clock, std::move(probe), COBINAR_VERSION, &runtime_.monitor());
  router_ = std::make_unique<http::Router>(http::make_routes(
      {*health_, runtime_.accounts(), runtime_.projects(), runtime_.applications(), runtime_.otp(),
                         runtime_.webhooks(), runtime_.analytics()}), env_.log);
  server_ = std::make_unique<http::HttpServer>(config.http, *router_, env_.log, env_.random);
}

Application::~Application() {
  if (retention_) retention_->stop();
  if (expiry_) expiry_->stop();
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
      runtime_.monitor().recovered("retention");
    } catch (const std::exception& e) {
      runtime_.monitor().failed("retention", "purge_failed", e.what());
    }
  });
  retention_->start();
  expiry_ = std::make_unique<core::PeriodicTask>(kExpirySweepInterval, [this] {
    try {
      runtime_.otp().expire_overdue();
      runtime_.monitor().recovered("expiry");
    } catch (const std::exception& e) {
      runtime_.monitor().failed("expiry", "sweep_failed", e.what());
    }
  });
  expiry_->start();
  server_->run();
  // In-flight requests are done; let queued deliveries wait for the next start (they are durable).
  retention_->stop();
  expiry_->stop();
  runtime_.delivery().stop();
  runtime_.webhook_engine().stop();
}

void Application::reload() {
  if (runtime_.config().http.tls_cert.empty() && runtime_.config().tokens.firebase_certs_path.empty()) {
    env_.log.info("SIGHUP: nothing to reload (no --tls-cert, no --firebase-certs)");
    return;
  }
  try {
    const std::string certificate = server_->reload_tls();
    if (!certificate.empty()) env_.log.info("reloaded TLS certificate and key", {{"cert", certificate}});
  } catch (const std::exception& e) {
    env_.log.error("TLS reload failed; still serving the previous certificate", {{"reason", e.what()}});
  }
  if (const auto keys = runtime_.tokens().reload_firebase_certs()) {
    const std::string& path = runtime_.config().tokens.firebase_certs_path;
    if (*keys == 0) {
      env_.log.warn("reloaded Firebase certificates: the file holds no usable certificate", {{"file", path}});
    } else {
      env_.log.info("reloaded Firebase certificates", {{"file", path}, {"keys", *keys}});
    }
  }
}

}  // namespace app
