// Prometheus metrics in the text exposition format 0.0.4, written by hand: counters and
// histograms with fixed buckets (lock-free atomics, so recording on a request thread costs a
// few relaxed atomic adds), the server's registry of them, and the renderer. Recording is
// thread-safe and wait-free; render() may run while others record. Routes are registered while
// the route table is built, before anything records or renders.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace core {
enum class SmsAttemptOutcome;      // core/delivery.h
enum class WebhookAttemptOutcome;  // core/webhooks.h
enum class BlockRule;              // core/abuse.h
}  // namespace core
namespace storage {
struct CommitStats;  // storage/database.h
}  // namespace storage

namespace app::metrics {

// The Content-Type of an exposition.
inline constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

class Counter {
 public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, ascending; +Inf is implied.
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, not cumulative; last = +Inf
  std::atomic<double> sum_{0};
};

// The exposition text, built family by family. Label values are escaped here.
using Labels = std::vector<std::pair<std::string_view, std::string>>;
class Exposition {
 public:
  // `# HELP` and `# TYPE` lines; type is counter, gauge or histogram.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const Labels& labels, double value);
  // `_bucket{le=...}` lines (cumulative, ending with +Inf), `_sum` and `_count`.
  void histogram(std::string_view name, const Labels& labels, const Histogram::Snapshot& snapshot);
  const std::string& text() const { return out_; }

 private:
  void labels(const Labels& labels, std::string_view extra_name = {}, std::string_view extra_value = {});
  std::string out_;
};

// Backslash, double quote and newline escaped, as label values need.
std::string escape_label_value(std::string_view value);
// Backslash and newline escaped, as HELP text needs.
std::string escape_help(std::string_view text);
// A sample value: integers exactly, others shortest round-trip (%g style: 0.0005, 4.7e-05),
// +Inf, -Inf, NaN.
std::string format_value(double value);

// One route of the API's table (or "unmatched"): what its requests came to.
struct RouteMetrics {
  // [0] success, then one per ErrorCode: kSmsNotConfigured must stay the last enumerator.
  static constexpr std::size_t kOutcomes = 1 + static_cast<std::size_t>(core::ErrorCode::kSmsNotConfigured) + 1;
  RouteMetrics(std::string method, std::string path);

  void record(int status, std::optional<core::ErrorCode> error, std::chrono::nanoseconds elapsed);

  const std::string method;
  const std::string path;  // the template, e.g. /v1/projects/{id}
  std::array<Counter, 5> by_class;         // 1xx .. 5xx
  std::array<Counter, kOutcomes> outcome;  // [0] success, [1 + code] an error code
  Histogram latency;
};

// Values read at scrape time, outside the registry.
struct QueueState {
  long long depth = 0;
  double oldest_age_seconds = 0;  // of the oldest queued item; 0 when empty
};
struct ProcessState {
  double resident_bytes = 0, virtual_bytes = 0, cpu_seconds = 0, start_time_seconds = 0;
  double open_fds = 0, max_fds = 0, threads = 0;
};
struct ScrapeState {
  std::optional<std::size_t> open_connections;
  std::uint64_t rejected_requests = 0;
  std::uint64_t refused_connections = 0;
  std::optional<QueueState> sms_queue;      // nullopt: the database could not be read
  std::optional<QueueState> webhook_queue;
  std::optional<double> wal_bytes;          // nullopt: no WAL file
  std::optional<double> db_bytes;
  std::optional<ProcessState> process;
};

// Reads /proc/self (Linux); nullopt when it cannot.
std::optional<ProcessState> read_process_state();

// Every metric of a serving process.
class Metrics {
 public:
  explicit Metrics(std::string version);

  // While the route table is built; the returned pointer lives as long as this.
  RouteMetrics* add_route(std::string method, std::string path);
  RouteMetrics* unmatched() { return unmatched_; }

  void on_commit(const storage::CommitStats& stats);
  void on_sms_attempt(core::SmsAttemptOutcome outcome);
  void on_webhook_attempt(core::WebhookAttemptOutcome outcome);
  void on_send_blocked(core::BlockRule rule);

  std::string render(const ScrapeState& state) const;

 private:
  std::string version_;
  std::deque<RouteMetrics> routes_;  // stable addresses
  RouteMetrics* unmatched_ = nullptr;
  Histogram batch_jobs_;
  Histogram batch_seconds_;
  Histogram commit_seconds_;
  Counter failed_batches_;
  std::array<Counter, 3> sms_attempts_;
  std::array<Counter, 4> sends_blocked_;  // by core::BlockRule
  std::array<Counter, 4> webhook_attempts_;
};

}  // namespace app::metrics
