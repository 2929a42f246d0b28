#include "app/application.h"

#include "app/http/routes.h"
#include "storage/key_file.h"

namespace app {

core::ServerKey open_server_key(const Config& config, core::Random& random) {
  storage::KeyBytes fresh{};
  random.fill(fresh);
  try {
    return core::ServerKey(storage::load_or_create_key_file(config.key_file_path(), fresh));
  } catch (const storage::KeyFileError& e) {
    throw http::StartupError(e.what());
  }
}

std::unique_ptr<storage::Database> open_database(const Config& config, const core::Clock& clock) {
  try {
    return storage::Database::open({config.db_path, config.durability}, core::format_timestamp(clock.now()));
  } catch (const std::exception& e) {
    throw http::StartupError(e.what());
  }
}

Application::Application(const Config& config, Environment env)
    : config_(config),
      env_(std::move(env)),
      key_(open_server_key(config_, env_.random)),
      database_(open_database(config_, env_.clock)) {
  auto probe = env_.storage_probe ? env_.storage_probe : [db = database_.get()] { return db->ping(); };
  health_ = std::make_unique<core::HealthService>(env_.clock, std::move(probe), COBINAR_VERSION);
  router_ = std::make_unique<http::Router>(http::make_routes({*health_}), env_.log);
  server_ = std::make_unique<http::HttpServer>(config_.http, *router_, env_.log, env_.random);
}

Application::~Application() = default;

}  // namespace app
