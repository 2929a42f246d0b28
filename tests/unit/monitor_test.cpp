#include "core/health.h"
#include "core/monitor.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace std::chrono;

namespace {

// What the sink heard, one string per line: "failing sms/delivery_failed reason (held back N)"
// or "recovered sms/delivery_failed".
struct Heard {
  std::vector<std::string> lines;
  core::ComponentMonitor::Sink sink() {
    return [this](const core::ComponentMonitor::LogLine& line) {
      const auto& f = line.failure;
      lines.push_back(std::string(line.recovered ? "recovered " : "failing ") + f.component + "/" + f.kind +
                      (line.recovered ? "" : " " + f.reason) +
                      (line.held_back > 0 ? " (held back " + std::to_string(line.held_back) + ")" : ""));
    };
  }
};

}  // namespace

TEST_CASE("a repeated failure is logged once a minute, with the count held back") {
  core::ManualClock clock(core::TimePoint(milliseconds(1'000'000)));
  core::ComponentMonitor monitor(clock);
  Heard heard;
  monitor.set_sink(heard.sink());

  struct Step {
    const char* name;
    seconds advance;
    const char* kind;  // nullptr: the component recovers
    std::vector<std::string> expected_new_lines;
  };
  const std::vector<Step> steps = {
      {"first failure is logged at once", 0s, "delivery_failed", {"failing sms/delivery_failed r"}},
      {"a repeat within the minute is held back", 10s, "delivery_failed", {}},
      {"another repeat too", 20s, "delivery_failed", {}},
      {"another kind of the same component has its own minute", 1s, "pass_failed", {"failing sms/pass_failed r"}},
      {"a minute after the first line, the next one says how many were held back", 30s, "delivery_failed",
       {"failing sms/delivery_failed r (held back 2)"}},
      {"recovery is logged for each logged kind", 1s, nullptr,
       {"recovered sms/delivery_failed", "recovered sms/pass_failed"}},
      {"a failure right after a recovery is still within its minute", 1s, "delivery_failed", {}},
      {"a flapping failure still writes at most a line a minute", 60s, "delivery_failed",
       {"failing sms/delivery_failed r (held back 1)"}},
      {"its recovery is logged", 1s, nullptr, {"recovered sms/delivery_failed"}},
      {"a failure within the minute is held back", 1s, "delivery_failed", {}},
      {"so is the recovery after it: no failure line to answer", 1s, nullptr, {}},
      {"another flap: held back", 1s, "delivery_failed", {}},
      {"its recovery too", 1s, nullptr, {}},
      {"a minute on, the failure line counts the failures held back", 60s, "delivery_failed",
       {"failing sms/delivery_failed r (held back 2)"}},
      {"and its recovery the recoveries held back", 1s, nullptr, {"recovered sms/delivery_failed (held back 2)"}},
  };
  std::size_t seen = 0;
  for (const auto& step : steps) {
    CAPTURE(step.name);
    clock.advance(step.advance);
    if (step.kind) {
      monitor.failed("sms", step.kind, "r");
    } else {
      monitor.recovered("sms");
    }
    const std::vector<std::string> fresh(heard.lines.begin() + static_cast<long>(seen), heard.lines.end());
    CHECK(fresh == step.expected_new_lines);
    seen = heard.lines.size();
  }
}

TEST_CASE("failing() lists what fails now, with its impact, first and last time and count") {
  core::ManualClock clock(core::TimePoint(milliseconds(0)));
  core::ComponentMonitor monitor(clock);
  CHECK(monitor.failing().empty());
  monitor.failed("writer", "commit_failed", "disk full", core::Impact::kDegraded);
  clock.advance(5s);
  monitor.failed("writer", "commit_failed", "disk still full", core::Impact::kDegraded);
  monitor.failed("webhooks", "delivery_failed", "webhook w: no answer");
  const auto failing = monitor.failing();
  REQUIRE(failing.size() == 2);
  CHECK(failing[0].component == "webhooks");
  CHECK(failing[0].impact == core::Impact::kDependency);
  CHECK(failing[1].component == "writer");
  CHECK(failing[1].reason == "disk still full");
  CHECK(failing[1].impact == core::Impact::kDegraded);
  CHECK(failing[1].count == 2);
  CHECK(failing[1].since == "1970-01-01T00:00:00.000Z");
  CHECK(failing[1].last == "1970-01-01T00:00:05.000Z");
  monitor.recovered("writer");
  REQUIRE(monitor.failing().size() == 1);
  CHECK(monitor.failing()[0].component == "webhooks");
  // A new failure after a recovery starts a new count.
  monitor.failed("writer", "commit_failed", "again", core::Impact::kDegraded);
  CHECK(monitor.failing()[1].count == 1);
}

TEST_CASE("health: a degrading failure (store cannot write, worker died) makes it non-operational; a dependency does not") {
  core::ManualClock clock(core::TimePoint(milliseconds(0)));
  core::ComponentMonitor monitor(clock);
  bool readable = true;
  core::HealthService health(clock, [&] { return readable; }, "1.0", &monitor);
  CHECK(health.check().operational);
  CHECK(health.check().failing.empty());

  monitor.failed("sms", "delivery_failed", "gateway down");
  auto report = health.check();
  CHECK(report.operational);
  REQUIRE(report.failing.size() == 1);
  CHECK(report.failing[0].component == "sms");

  monitor.failed("webhooks", "died", "a webhook delivery worker stopped", core::Impact::kDegraded);
  report = health.check();
  CHECK_FALSE(report.operational);
  CHECK(report.failing.size() == 2);

  monitor.recovered("webhooks");
  monitor.recovered("sms");
  CHECK(health.check().operational);
  readable = false;
  report = health.check();
  CHECK_FALSE(report.operational);
  REQUIRE(report.failing.size() == 1);
  CHECK(report.failing[0].component == "store");
}
