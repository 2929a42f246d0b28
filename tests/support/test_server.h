// The API test fixture: the real Application (same wiring as the binary) serving on an
// ephemeral 127.0.0.1 port with a fresh temporary database, a manual clock, seeded randomness
// and captured log lines. Stopped and joined on destruction.
//
// The engine is the suite's one parameter: with COBINAR_TEST_POSTGRES set to a superuser's
// URL (scripts/with-postgres.sh sets it), every server gets a fresh PostgreSQL database,
// dropped afterwards; otherwise a fresh SQLite file. A test that sets db_path itself keeps it.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "app/application.h"
#include "tests/support/temp_dir.h"

namespace testing {

// A fresh PostgreSQL database on the COBINAR_TEST_POSTGRES server, dropped on destruction.
class TempPostgresDatabase {
 public:
  TempPostgresDatabase();
  ~TempPostgresDatabase();
  const std::string& url() const { return url_; }

 private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

// The COBINAR_TEST_POSTGRES URL, or "" when the suite runs on SQLite.
std::string test_postgres_url();

struct TestServerOptions {
  std::function<void(app::Config&)> configure;  // adjust the config before start
  std::function<bool()> storage_probe;          // replaces the database health probe
};

class TestServer {
 public:
  explicit TestServer(TestServerOptions options = {});
  ~TestServer();

  int port() const { return port_; }
  httplib::Client client() const;
  app::Application& application() { return *application_; }
  core::ManualClock& clock() { return clock_; }
  const app::Config& config() const { return config_; }
  std::vector<std::string> log_lines() const;

  // Creates a developer (through the core, as the CLI does) and returns a fresh ID token.
  std::string create_developer(const std::string& email, const std::string& plan = "");

 private:
  TempDir dir_;
  std::unique_ptr<TempPostgresDatabase> postgres_;
  core::ManualClock clock_;
  core::SeededRandom random_{42};
  mutable std::mutex log_mutex_;
  std::vector<std::string> log_lines_;
  std::unique_ptr<app::Log> log_;
  app::Config config_;
  std::unique_ptr<app::Application> application_;
  int port_ = 0;
  std::thread thread_;
};

// Everything the server's database holds: with SQLite every byte of the file and its WAL (after
// a checkpoint), with PostgreSQL every row of every table as text.
std::string stored_bytes(TestServer& server);

// One HTTP exchange of a table-driven scenario.
struct Scenario {
  std::string name;
  std::string method;
  std::string path;
  std::string body;                       // sent when non-empty (or when content_type is set)
  std::string content_type = "application/json";
  httplib::Headers headers;
  int expected_status = 200;
  std::string expected_code;              // error.code, when the answer is an error
};

struct Exchange {
  int status = 0;
  httplib::Headers headers;
  nlohmann::json body;  // discarded if not JSON
  std::string raw_body;
};

// `Authorization: Bearer <token>`
httplib::Headers bearer(const std::string& token);

Exchange perform(httplib::Client& client, const std::string& method, const std::string& path,
                 const std::string& body = "", const std::string& content_type = "application/json",
                 const httplib::Headers& headers = {});

// Runs each scenario and checks status, envelope, error code and x-request-id.
void run_scenarios(TestServer& server, const std::vector<Scenario>& scenarios);

}  // namespace testing
