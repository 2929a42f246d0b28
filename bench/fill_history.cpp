// cobinar-bench-fill: writes a database with a long OTP history for the analytics benchmark.
//   cobinar-bench-fill DB EVENTS DAYS
// Creates one developer (bench@example.com, plan unlimited) with 3 applications, then EVENTS
// events spread evenly over the last DAYS days (created/verified/failed mix, with their OTP
// requests and the matching per-day counters), in large transactions. One phone per four events
// (at least 1,000) has verified, spread over the DAYS days, so the active users the summary
// counts grow with the history.
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include "storage/sqlite/connection.h"

#include <algorithm>
#include <iostream>
#include <map>

#include "app/runtime.h"
#include "core/ids.h"
#include "core/phone.h"
#include "storage/analytics.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: cobinar-bench-fill DB EVENTS DAYS\n";
    return 2;
  }
  if (!core::crypto_init()) return 1;
  app::Config config;
  config.db_path = argv[1];
  config.durability = storage::Durability::kNormal;
  const long long total = std::stoll(argv[2]);
  const int days = std::stoi(argv[3]);
  core::SystemClock clock;
  core::SodiumRandom random;
  app::Runtime runtime(config, clock, random);

  auto developer = runtime.accounts().create_developer({"bench@example.com", "Bench", "", std::nullopt, "unlimited"});
  if (!developer.ok()) {
    std::cerr << "cobinar-bench-fill: " << developer.error().message << "\n";
    return 1;
  }
  auto project = runtime.projects().create(developer.value(), {{"name", "Bench"}});
  std::vector<std::string> apps;
  for (int i = 0; i < 3; ++i) {
    auto created = runtime.applications().create(
        developer.value(), {{"name", "App " + std::to_string(i)}, {"projectId", project.value().id}, {"environment", "test"}});
    apps.push_back(created.value().application.id);
  }

  const auto now = clock.now();
  const auto start = now - std::chrono::days(days);
  const auto step = std::chrono::duration_cast<std::chrono::milliseconds>(now - start) / total;
  std::map<std::pair<std::string, std::string>, std::array<long long, 3>> counters;  // (app, day) -> sent/verified/failed
  const std::string developer_id = developer.value().id;
  const long long phones = std::max(1000LL, total / 4);
  runtime.database().write([&](storage::Connection& connection) {
    SQLite::Database& c = storage::sqlite_of(connection);
    SQLite::Statement event(c,
                            "INSERT INTO events(id, type, developer_id, app_id, request_id, phone, status, payload, created_at) "
                            "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
    SQLite::Statement request(c,
                              "INSERT INTO otp_requests(id, app_id, developer_id, phone, status, attempts, delivery_status, "
                              "created_at, expires_at, verified_at, updated_at) VALUES(?, ?, ?, ?, ?, 0, 'sent', ?, ?, ?, ?)");
    std::string request_id;
    for (long long i = 0; i < total; ++i) {
      const core::ManualClock at(start + step * i);
      const std::string created = core::format_timestamp(at.now());
      const std::string& app = apps[static_cast<std::size_t>(i % 3)];
      const std::string phone = "+999" + std::to_string(100000000 + (i / 2) % phones);
      // Each request: otp.created, then otp.verified (3 in 4) or otp.failed.
      const bool created_event = i % 2 == 0;
      const std::string type = created_event ? "otp.created" : (i % 8 == 7 ? "otp.failed" : "otp.verified");
      if (created_event) {
        request_id = core::new_id(at, random);
        request.bind(1, request_id);
        request.bind(2, app);
        request.bind(3, developer_id);
        request.bind(4, phone);
        request.bind(5, "verified");
        request.bind(6, created);
        request.bind(7, core::format_timestamp(at.now() + std::chrono::minutes(5)));
        request.bind(8, created);
        request.bind(9, created);
        request.exec();
        request.reset();
      }
      event.bind(1, core::new_id(at, random));
      event.bind(2, type);
      event.bind(3, developer_id);
      event.bind(4, app);
      event.bind(5, request_id);
      event.bind(6, phone);
      event.bind(7, created_event ? "pending" : type == "otp.failed" ? "pending" : "verified");
      event.bind(8, nlohmann::json{{"requestId", request_id}, {"appId", app}, {"phone", core::display_phone(phone)}}.dump());
      event.bind(9, created);
      event.exec();
      event.reset();
      auto& day = counters[{app, created.substr(0, 10)}];
      ++day[created_event ? 0 : type == "otp.verified" ? 1 : 2];
      if (i % 200000 == 0) std::cerr << "cobinar-bench-fill: " << i << " events\n";
    }
    SQLite::Statement stats(c, "INSERT INTO daily_stats(app_id, developer_id, day, sent, verified, failed) VALUES(?, ?, ?, ?, ?, ?)");
    for (const auto& [key, value] : counters) {
      stats.bind(1, key.first);
      stats.bind(2, developer_id);
      stats.bind(3, key.second);
      stats.bind(4, static_cast<int64_t>(value[0]));
      stats.bind(5, static_cast<int64_t>(value[1]));
      stats.bind(6, static_cast<int64_t>(value[2]));
      stats.exec();
      stats.reset();
    }
    SQLite::Statement identity(c,
                               "INSERT INTO identities(developer_id, phone, id, created_at, last_verified_at, "
                               "verification_count, last_application_id) VALUES(?, ?, ?, ?, ?, ?, ?)");
    SQLite::Statement activity(c, "INSERT INTO app_phone_activity(app_id, phone, last_verified_at) VALUES(?, ?, ?)");
    for (long long p = 0; p < phones; ++p) {
      const core::ManualClock at(start + (now - start) * p / phones);
      const std::string phone = "+999" + std::to_string(100000000 + p);
      const std::string verified_at = core::format_timestamp(at.now());
      const std::string& app = apps[static_cast<std::size_t>(p % 3)];
      identity.bind(1, developer_id);
      identity.bind(2, phone);
      identity.bind(3, core::new_id(at, random));
      identity.bind(4, verified_at);
      identity.bind(5, verified_at);
      identity.bind(6, 1);
      identity.bind(7, apps[0]);
      identity.exec();
      identity.reset();
      activity.bind(1, app);
      activity.bind(2, phone);
      activity.bind(3, verified_at);
      activity.exec();
      activity.reset();
      // The per-day active counts, kept as a verification keeps them (merged per day at the commit).
      storage::analytics::move_active_phone(connection, storage::ActiveScope::kDeveloper, developer_id, std::nullopt, verified_at);
      storage::analytics::move_active_phone(connection, storage::ActiveScope::kApplication, app, std::nullopt, verified_at);
    }
  });
  runtime.database().write([](storage::Connection& c) { c.exec("ANALYZE"); });
  std::cout << "bench@example.com " << total << " events over " << days << " days, " << counters.size()
            << " counter rows\n";
  return 0;
}
