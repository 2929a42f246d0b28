#include "core/monitor.h"

namespace core {

void ComponentMonitor::set_sink(Sink sink) {
  std::lock_guard lock(mutex_);
  sink_ = std::move(sink);
}

void ComponentMonitor::failed(std::string_view component, std::string_view kind, std::string_view reason,
                              Impact impact) {
  const TimePoint now = clock_.now();
  const std::string stamp = format_timestamp(now);
  std::lock_guard lock(mutex_);
  Entry& entry = entries_[{std::string(component), std::string(kind)}];
  ComponentFailure& failure = entry.failure;
  if (!entry.active) {
    entry.active = true;
    failure.component = component;
    failure.kind = kind;
    failure.since = stamp;
    failure.count = 0;
  }
  failure.reason = reason;
  failure.impact = impact;
  failure.last = stamp;
  ++failure.count;
  if (entry.last_logged && now - *entry.last_logged < log_interval_) {
    ++entry.held_back;
    return;
  }
  if (sink_) sink_(LogLine{false, failure, entry.held_back});
  entry.last_logged = now;
  entry.held_back = 0;
  entry.failure_line_unanswered = true;
}

void ComponentMonitor::recovered(std::string_view component) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.lower_bound(std::pair<std::string, std::string>{std::string(component), ""});
       it != entries_.end() && it->first.first == component; ++it) {
    Entry& entry = it->second;
    if (!entry.active) continue;
    entry.active = false;
    if (!entry.failure_line_unanswered) {
      if (entry.last_logged) ++entry.recoveries_held_back;
      continue;
    }
    if (sink_) sink_(LogLine{true, entry.failure, entry.recoveries_held_back});
    entry.failure_line_unanswered = false;
    entry.recoveries_held_back = 0;
  }
}

std::vector<ComponentFailure> ComponentMonitor::failing() const {
  std::lock_guard lock(mutex_);
  std::vector<ComponentFailure> result;
  for (const auto& [key, entry] : entries_) {
    if (entry.active) result.push_back(entry.failure);
  }
  return result;
}

}  // namespace core
