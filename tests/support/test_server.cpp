#include "tests/support/test_server.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "storage/postgres/connection.h"

namespace testing {

std::string test_postgres_url() {
  const char* url = std::getenv("COBINAR_TEST_POSTGRES");
  return url != nullptr ? url : "";
}

namespace {
// `url` with its database name replaced.
std::string with_database(const std::string& url, const std::string& name) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  const auto query = url.find('?');
  const std::string base = slash == std::string::npos ? url.substr(0, query) : url.substr(0, slash);
  const std::string rest = query == std::string::npos ? "" : url.substr(query);
  return base + "/" + name + rest;
}
}  // namespace

TempPostgresDatabase::TempPostgresDatabase() : admin_url_(test_postgres_url()) {
  static std::atomic<int> counter{0};
  name_ = "cobinar_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  storage::PgConnection admin(admin_url_);
  admin.exec("DROP DATABASE IF EXISTS " + name_);
  admin.exec("CREATE DATABASE " + name_);
  url_ = with_database(admin_url_, name_);
}

TempPostgresDatabase::~TempPostgresDatabase() {
  try {
    storage::PgConnection admin(admin_url_);
    admin.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (...) {
    // The server goes away with the test run anyway.
  }
}

using namespace std::chrono_literals;

TestServer::TestServer(TestServerOptions options)
    : clock_(core::TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 7 / 3) + 14h + 22min + 10s)) {
  log_ = std::make_unique<app::Log>(app::LogFormat::kText, clock_, [this](std::string_view line) {
    std::lock_guard lock(log_mutex_);
    // COBINAR_TEST_ECHO_LOG=1 shows the server's log while debugging a test.
    static const bool echo = std::getenv("COBINAR_TEST_ECHO_LOG") != nullptr;
    if (echo) std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
    log_lines_.emplace_back(line);
  });
  config_.db_path = dir_.file("test.sqlite");
  if (!test_postgres_url().empty()) {
    postgres_ = std::make_unique<TempPostgresDatabase>();
    config_.db_path = postgres_->url();
    config_.key_file = dir_.file("test.key");
  }
  config_.http.port = 0;
  config_.http.threads = 8;
  if (options.configure) options.configure(config_);
  application_ = std::make_unique<app::Application>(
      config_, app::Environment{clock_, random_, *log_, std::move(options.storage_probe)});
  port_ = application_->bind();
  thread_ = std::thread([this] { application_->run(); });
}

TestServer::~TestServer() {
  application_->stop();
  thread_.join();
}

httplib::Client TestServer::client() const {
  httplib::Client client("127.0.0.1", port_);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  return client;
}

std::vector<std::string> TestServer::log_lines() const {
  std::lock_guard lock(log_mutex_);
  return log_lines_;
}

std::string TestServer::create_developer(const std::string& email, const std::string& plan) {
  auto& accounts = application_->runtime().accounts();
  auto created = accounts.create_developer(
      {email, "", "", std::nullopt, plan.empty() ? std::nullopt : std::optional<std::string>(plan)});
  REQUIRE_MESSAGE(created.ok(), created.error().message);
  auto token = accounts.issue_token(email);
  REQUIRE(token.ok());
  return token.value();
}

std::string stored_bytes(TestServer& server) {
  auto& store = server.application().database();
  if (store.engine() == storage::Engine::kSqlite) {
    store.write([](storage::Connection&) {});
    store.read([](storage::Connection& c) { c.exec("PRAGMA wal_checkpoint(FULL)"); });
    const std::string& path = server.config().db_path;
    return read_file(path) + read_file(path + "-wal");
  }
  return store.read([](storage::Connection& c) {
    std::vector<std::string> tables;
    {
      storage::Prepared q(c, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()");
      while (q->executeStep()) tables.push_back(q->getColumn(0).getString());
    }
    std::string all;
    for (const auto& table : tables) {
      all += c.query_text("SELECT string_agg(t::text, E'\\n') FROM " + table + " t") + "\n";
    }
    return all;
  });
}

httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

Exchange perform(httplib::Client& client, const std::string& method, const std::string& path,
                 const std::string& body, const std::string& content_type, const httplib::Headers& headers) {
  httplib::Request request;
  request.method = method;
  request.path = path;
  request.headers = headers;
  if (!body.empty()) {
    request.body = body;
    request.set_header("Content-Type", content_type);
  }
  auto result = client.send(request);
  REQUIRE_MESSAGE(result, "no HTTP answer for ", method, " ", path, ": ", httplib::to_string(result.error()));
  Exchange exchange;
  exchange.status = result->status;
  exchange.headers = result->headers;
  exchange.raw_body = result->body;
  exchange.body = nlohmann::json::parse(result->body, nullptr, false);
  return exchange;
}

void run_scenarios(TestServer& server, const std::vector<Scenario>& scenarios) {
  auto client = server.client();
  for (const auto& scenario : scenarios) {
    CAPTURE(scenario.name);
    const Exchange exchange =
        perform(client, scenario.method, scenario.path, scenario.body, scenario.content_type, scenario.headers);
    CHECK(exchange.status == scenario.expected_status);
    const auto request_id = exchange.headers.find("x-request-id");
    REQUIRE(request_id != exchange.headers.end());
    if (scenario.method == "HEAD") continue;
    REQUIRE_FALSE(exchange.body.is_discarded());
    if (!scenario.expected_code.empty()) {
      CHECK(exchange.body["error"]["code"] == scenario.expected_code);
      CHECK(exchange.body["error"]["message"].is_string());
      CHECK(exchange.body["error"]["requestId"] == request_id->second);
    } else {
      CHECK(exchange.body.contains("data"));
    }
  }
}

}  // namespace testing
