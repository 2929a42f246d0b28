#include "app/application.h"

#include <sys/stat.h>

#include <thread>

#include "app/http/routes.h"
#include "storage/queue_stats.h"

namespace app {

Application::Application(const Config& config, Environment env)
    : env_(std::move(env)), runtime_(config, env_.clock, env_.random) {
  runtime_.monitor().set_sink([&log = env_.log](const core::ComponentMonitor::LogLine& line) {
    const auto& failure = line.failure;
    if (line.recovered) {
      if (line.held_back > 0) {
        log.info("component recovered", {{"component", failure.component}, {"kind", failure.kind},
                                         {"failures", failure.count}, {"since", failure.since},
                                         {"repeated", line.held_back}});
      } else {
        log.info("component recovered", {{"component", failure.component}, {"kind", failure.kind},
                                         {"failures", failure.count}, {"since", failure.since}});
      }
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
  // Counting is always on (a few relaxed atomic adds per request); serving the exposition is
  // what --metrics-listen turns on.
  metrics_ = std::make_unique<metrics::Metrics>(COBINAR_VERSION);
  runtime_.database().set_commit_observer([m = metrics_.get()](const storage::CommitStats& s) { m->on_commit(s); });
  runtime_.delivery().set_attempt_observer([m = metrics_.get()](core::SmsAttemptOutcome o) { m->on_sms_attempt(o); });
  runtime_.webhook_engine().set_attempt_observer(
      [m = metrics_.get()](core::WebhookAttemptOutcome o) { m->on_webhook_attempt(o); });

  auto probe = env_.storage_probe ? env_.storage_probe : [db = &runtime_.database()] { return db->ping(); };
  health_ = std::make_unique<core::HealthService>(env_.clock, std::move(probe), COBINAR_VERSION, &runtime_.monitor());
  // A fresh database gets its first receipt key before the first verification needs it.
  runtime_.receipts().ensure_signing_key();
  // SQLite keeps the abuse counts in memory: the last day of sends, before the first send.
  runtime_.abuse().restore();
  runtime_.otp().guard_abuse_with(&runtime_.abuse(),
                                  [m = metrics_.get()](core::BlockRule rule) { m->on_send_blocked(rule); });
  router_ = std::make_unique<http::Router>(http::make_routes(
      {*health_, runtime_.accounts(), runtime_.projects(), runtime_.applications(), runtime_.otp(),
                         runtime_.webhooks(), runtime_.analytics(), runtime_.idempotency(), runtime_.receipts(),
                         runtime_.abuse()}),
      env_.log, metrics_.get());
  server_ = std::make_unique<http::HttpServer>(config.http, *router_, env_.log, env_.random);

  if (config.metrics_http) {
    std::vector<http::Route> routes;
    routes.push_back({"GET", "/metrics", [this](const http::HttpRequest&) -> core::Result<http::Reply> {
                        return http::Reply::plain(render_metrics(), metrics::kContentType);
                      }});
    metrics_router_ = std::make_unique<http::Router>(std::move(routes), env_.log);
    // Its own randomness (request ids): the injected one need not be thread-safe.
    metrics_server_ = std::make_unique<http::HttpServer>(*config.metrics_http, *metrics_router_, env_.log, metrics_random_);
  }
}

Application::~Application() {
  if (retention_) retention_->stop();
  if (expiry_) expiry_->stop();
  runtime_.delivery().stop();
  runtime_.webhook_engine().stop();
  // The metrics go before the database's writer thread does.
  runtime_.database().set_commit_observer(nullptr);
}

int Application::bind() {
  const int port = server_->bind();
  if (metrics_server_) metrics_port_ = metrics_server_->bind();
  return port;
}

void Application::stop() {
  server_->stop();
  if (metrics_server_) metrics_server_->stop();
}

std::string Application::render_metrics() {
  metrics::ScrapeState state;
  const http::HttpServerStats edge = server_->stats();
  state.open_connections = edge.open_connections;
  state.rejected_requests = edge.rejected_requests;
  state.refused_connections = edge.refused_connections;

  const core::TimePoint now = env_.clock.now();
  auto queue_state = [&](const storage::QueueStats& stats) {
    metrics::QueueState queue{stats.depth, 0};
    if (stats.oldest_created_at) {
      if (const auto oldest = core::parse_timestamp(*stats.oldest_created_at); oldest && *oldest < now) {
        queue.oldest_age_seconds = std::chrono::duration<double>(now - *oldest).count();
      }
    }
    return queue;
  };
  try {
    runtime_.database().read([&](storage::Connection& c) {
      state.sms_queue = queue_state(storage::sms_queue_stats(c));
      state.webhook_queue = queue_state(storage::webhook_queue_stats(c));
    });
  } catch (const std::exception& e) {
    env_.log.warn("metrics: cannot read the queues", {{"what", e.what()}});
  }

  if (const auto* sqlite = dynamic_cast<const storage::Database*>(&runtime_.database())) {
    const std::string& db_path = sqlite->options().path;
    struct stat info {};
    if (::stat((db_path + "-wal").c_str(), &info) == 0) state.wal_bytes = static_cast<double>(info.st_size);
    if (::stat(db_path.c_str(), &info) == 0) state.db_bytes = static_cast<double>(info.st_size);
  }
  state.process = metrics::read_process_state();
  return metrics_->render(state);
}

void Application::run() {
  runtime_.delivery().start();
  runtime_.webhook_engine().start();
  const auto retention = std::chrono::days(runtime_.config().retention_days);
  retention_ = std::make_unique<core::PeriodicTask>(std::chrono::hours(1), [this, retention] {
    try {
      // One node at a time (PostgreSQL); another node's pass does the same work.
      int removed = 0;
      runtime_.database().run_alone("retention", [&] {
        removed = runtime_.otp().purge_history(retention) + runtime_.idempotency().purge_expired();
      });
      if (removed > 0) env_.log.info("retention purge", {{"rows", removed}});
      runtime_.monitor().recovered("retention");
    } catch (const std::exception& e) {
      runtime_.monitor().failed("retention", "purge_failed", e.what());
    }
  });
  retention_->start();
  expiry_ = std::make_unique<core::PeriodicTask>(kExpirySweepInterval, [this] {
    try {
      runtime_.database().run_alone("expiry", [&] {
        runtime_.otp().expire_overdue();
        // Rows from before migration 10 get their region and number type, a few batches a pass.
        runtime_.otp().backfill_phone_facts();
      });
      runtime_.monitor().recovered("expiry");
    } catch (const std::exception& e) {
      runtime_.monitor().failed("expiry", "sweep_failed", e.what());
    }
  });
  expiry_->start();
  std::thread metrics_thread;
  if (metrics_server_) metrics_thread = std::thread([this] { metrics_server_->run(); });
  server_->run();
  if (metrics_server_) {
    metrics_server_->stop();
    metrics_thread.join();
  }
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
