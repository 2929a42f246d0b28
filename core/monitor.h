// Failures you can see: every background component (writer, checkpointer, SMS worker, webhook
// engine, retention) reports its failures here. Each (component, kind) is written to the log at
// most once a minute while it repeats (the next line says how many were held back), and the
// health report reads the components that are failing now. Thread-safe; cheap to call on every
// pass of a worker.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace core {

// How much a failure matters to the health report.
enum class Impact {
  kDependency,  // something outside failed (a gateway, a receiver): shown, health stays 200
  kDegraded,    // the server cannot do its job (the store cannot write, a worker died): 503
};

struct ComponentFailure {
  std::string component;  // "writer", "checkpointer", "sms", "webhooks", "retention"
  std::string kind;       // a short stable word: "commit_failed", "delivery_failed", "died", ...
  std::string reason;     // the latest reason, one line, never a secret
  Impact impact = Impact::kDependency;
  std::string since;      // RFC 3339, the first failure of this run
  std::string last;       // RFC 3339, the latest
  long long count = 0;    // failures of this kind since `since`
};

class ComponentMonitor {
 public:
  // One log line: a failure (recovered = false) or a recovery. `held_back` counts the repeats
  // (failures, or recoveries) not written since the previous line of that sort for this
  // (component, kind).
  struct LogLine {
    bool recovered = false;
    const ComponentFailure& failure;
    long long held_back = 0;
  };
  using Sink = std::function<void(const LogLine& line)>;

  explicit ComponentMonitor(const Clock& clock, std::chrono::seconds log_interval = std::chrono::seconds(60))
      : clock_(clock), log_interval_(log_interval) {}

  // Where lines go (none until set; the server sets its log before workers start).
  void set_sink(Sink sink);

  // A failure of `component`. Logged at once the first time, then at most once per interval.
  void failed(std::string_view component, std::string_view kind, std::string_view reason,
              Impact impact = Impact::kDependency);
  // `component` works again: its failures are cleared, and a recovery line is logged for each
  // kind whose failure line was written since its last recovery line, so a component that flaps
  // logs at most one failure and one recovery line a minute.
  void recovered(std::string_view component);

  // What is failing now, ordered by component and kind.
  std::vector<ComponentFailure> failing() const;

 private:
  // Kept after a recovery, so a failure that comes and goes is still logged once a minute.
  struct Entry {
    ComponentFailure failure;
    bool active = false;
    std::optional<TimePoint> last_logged;
    long long held_back = 0;
    bool failure_line_unanswered = false;  // a failure line was written and no recovery line since
    long long recoveries_held_back = 0;
  };

  const Clock& clock_;
  std::chrono::seconds log_interval_;
  mutable std::mutex mutex_;
  Sink sink_;
  std::map<std::pair<std::string, std::string>, Entry, std::less<>> entries_;
};

}  // namespace core
