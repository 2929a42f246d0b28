// The assembled server: the Runtime (key, store, services) plus routes and the HTTP edge.
// Used by `main` and by the API tests, so both run exactly the same code. bind()/run() on one
// thread, stop() from any thread.
//
// Every thread of a serving process (the full map, with what each may touch and how it stops:
// docs/ARCHITECTURE.md, "Thread map"; change both together):
//   main            run(): the HTTP event loop (accepts, waits on idle connections, deadlines)
//   HTTP workers    --threads of them (app/http/server.cpp): read, frame, dispatch, answer
//   signals         app/commands.cpp: sigwait; SIGTERM/SIGINT → stop(), SIGHUP → reload()
//   SQLite writer   storage/sqlite/database.cpp: group commit of every write job (SQLite only)
//   checkpointer    storage/sqlite/database.cpp: WAL checkpoints every 250 ms (SQLite only)
//   LISTEN          storage/postgres/store.cpp: NOTIFY → on_announced callbacks, started by
//                   the first on_announced (PostgreSQL only)
//   SMS delivery    core/delivery.cpp: one worker for queued SMS jobs
//   webhooks        core/webhooks.cpp: --webhook-workers threads, each both fans the outbox
//                   out into deliveries and delivers them
//   retention       core/periodic.h: the hourly purge of old history, expired refresh tokens,
//                   stale phone-failure rows and (PostgreSQL) old rate-limit events
//   expiry          core/periodic.h: every 20 s, closes pending requests past their TTL
//                   (status expired, code hash erased) and backfills phone region/type
//   metrics         with --metrics-listen: a second HttpServer (its event loop on a thread of
//                   its own, one worker) that answers GET /metrics
#pragma once

#include <functional>
#include <chrono>
#include <memory>

#include "app/config.h"
#include "app/http/router.h"
#include "app/http/server.h"
#include "app/log.h"
#include "app/metrics.h"
#include "app/runtime.h"
#include "core/health.h"
#include "core/periodic.h"
#include "core/random.h"

namespace app {

struct Environment {
  const core::Clock& clock;
  core::Random& random;
  Log& log;
  // Overrides the storage health probe (tests simulate an unreadable database with it).
  std::function<bool()> storage_probe = nullptr;
};

// Pending requests past their TTL lose their code hash within this long.
inline constexpr std::chrono::seconds kExpirySweepInterval{20};

class Application {
 public:
  // Opens everything; throws http::StartupError with a one-line reason.
  Application(const Config& config, Environment env);
  ~Application();

  // Binds the API listener (and the metrics listener, when configured); returns the API port.
  int bind();
  // The bound metrics port; 0 without --metrics-listen or before bind().
  int metrics_port() const { return metrics_port_; }
  // Starts the background workers (SMS delivery, webhook workers, retention, the expiry sweep,
  // the metrics listener) and serves until stop().
  void run();
  void stop();
  // SIGHUP: re-reads the TLS certificate and key and the Firebase certificate file, keeps every
  // connection, and logs what it reloaded (or why it kept the old ones). Thread-safe.
  void reload();

  Runtime& runtime() { return runtime_; }
  storage::Store& database() { return runtime_.database(); }
  const http::Router& router() const { return *router_; }
  // The exposition GET /metrics answers with (works without --metrics-listen too).
  std::string render_metrics();

 private:
  Environment env_;
  Runtime runtime_;
  std::unique_ptr<metrics::Metrics> metrics_;
  std::unique_ptr<core::HealthService> health_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<core::PeriodicTask> retention_;
  std::unique_ptr<core::PeriodicTask> expiry_;
  core::SodiumRandom metrics_random_;
  std::unique_ptr<http::Router> metrics_router_;
  std::unique_ptr<http::HttpServer> metrics_server_;
  int metrics_port_ = 0;
};

}  // namespace app
