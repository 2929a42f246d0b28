// The assembled server: store, key, services, routes and the HTTP edge, wired from a Config.
// Used by `main` and by the API tests, so both run exactly the same code. bind()/run() on one
// thread, stop() from any thread.
#pragma once

#include <functional>
#include <memory>

#include "app/config.h"
#include "app/http/router.h"
#include "app/http/server.h"
#include "app/log.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/health.h"
#include "core/random.h"
#include "storage/database.h"

namespace app {

struct Environment {
  const core::Clock& clock;
  core::Random& random;
  Log& log;
  // Overrides the storage health probe (tests simulate an unreadable database with it).
  std::function<bool()> storage_probe = nullptr;
};

// Opens the key file (creating it, 0600, when missing); throws http::StartupError.
core::ServerKey open_server_key(const Config& config, core::Random& random);
// Opens and migrates the database; throws http::StartupError.
std::unique_ptr<storage::Database> open_database(const Config& config, const core::Clock& clock);

class Application {
 public:
  // Opens everything; throws http::StartupError with a one-line reason.
  Application(const Config& config, Environment env);
  ~Application();

  int bind() { return server_->bind(); }
  void run() { server_->run(); }
  void stop() { server_->stop(); }

  storage::Database& database() { return *database_; }
  const http::Router& router() const { return *router_; }

 private:
  Config config_;
  Environment env_;
  core::ServerKey key_;
  std::unique_ptr<storage::Database> database_;
  std::unique_ptr<core::HealthService> health_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace app
