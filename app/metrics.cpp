#include "app/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/abuse.h"
#include "core/delivery.h"
#include "core/webhooks.h"
#include "storage/store.h"

namespace app::metrics {

namespace {

// Request latency: 0.5 ms (a cached read) to 10 s (a stalled disk).
const std::vector<double> kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,  0.5,    1,     2.5,  5,     10};
// Group commit: jobs per transaction (the writer takes at most 256).
const std::vector<double> kBatchBounds = {1, 2, 4, 8, 16, 32, 64, 128, 256};
// The COMMIT (fsync) and the whole batch: 0.1 ms (no sync, page cache) to 5 s.
const std::vector<double> kCommitBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                           0.025,  0.05,    0.1,    0.25,  0.5,    1,     5};

double seconds(std::chrono::nanoseconds elapsed) { return std::chrono::duration<double>(elapsed).count(); }

// The outcome label of a send or verify answer: [0] success, [1 + code] an error.
std::string_view send_outcome(std::size_t slot) {
  if (slot == 0) return "sent";
  switch (static_cast<core::ErrorCode>(slot - 1)) {
    case core::ErrorCode::kRateLimited: return "rate_limited";
    case core::ErrorCode::kInvalidArgument:
    case core::ErrorCode::kPayloadTooLarge:
    case core::ErrorCode::kUnsupportedMediaType: return "invalid";
    case core::ErrorCode::kUnauthenticated: return "unauthenticated";
    case core::ErrorCode::kForbidden:
    case core::ErrorCode::kPlanLimitExceeded: return "forbidden";
    case core::ErrorCode::kIdempotencyKeyInUse: return "idempotency_key_in_use";
    case core::ErrorCode::kIdempotencyKeyReused: return "idempotency_key_reused";
    case core::ErrorCode::kSendBlocked: return "blocked";
    case core::ErrorCode::kSmsNotConfigured: return "sms_not_configured";
    default: return "error";
  }
}

std::string_view verify_outcome(std::size_t slot) {
  if (slot == 0) return "verified";
  switch (static_cast<core::ErrorCode>(slot - 1)) {
    case core::ErrorCode::kInvalidCode: return "invalid_code";
    case core::ErrorCode::kOtpExpired: return "expired";
    case core::ErrorCode::kOtpFailed: return "failed";
    case core::ErrorCode::kOtpAlreadyVerified: return "already_verified";
    case core::ErrorCode::kNotFound: return "not_found";
    case core::ErrorCode::kRateLimited: return "rate_limited";
    case core::ErrorCode::kInvalidArgument:
    case core::ErrorCode::kPayloadTooLarge:
    case core::ErrorCode::kUnsupportedMediaType: return "invalid";
    case core::ErrorCode::kUnauthenticated: return "unauthenticated";
    case core::ErrorCode::kForbidden:
    case core::ErrorCode::kPlanLimitExceeded: return "forbidden";
    default: return "error";
  }
}

// The count of every outcome label of a family, in the family's documented order.
std::vector<std::pair<std::string_view, std::uint64_t>> outcomes(const RouteMetrics* route,
                                                                 std::string_view (*label)(std::size_t),
                                                                 const std::vector<std::string_view>& order) {
  std::vector<std::pair<std::string_view, std::uint64_t>> out;
  for (std::string_view name : order) out.emplace_back(name, 0);
  for (std::size_t slot = 0; slot < RouteMetrics::kOutcomes; ++slot) {
    const std::string_view name = label(slot);
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& entry) { return entry.first == name; });
    if (it == out.end()) it = out.emplace(out.end(), name, 0);  // a label missing from `order`
    if (route != nullptr) it->second += route->outcome[slot].value();
  }
  return out;
}

const std::vector<std::string_view> kSendOrder = {"sent",      "rate_limited",       "invalid", "unauthenticated",
                                                  "forbidden", "blocked",  "sms_not_configured", "error"};
const std::vector<std::string_view> kVerifyOrder = {"verified",     "invalid_code", "expired",
                                                    "failed",       "already_verified", "not_found",
                                                    "rate_limited", "invalid",      "unauthenticated",
                                                    "forbidden",    "error"};

}  // namespace

// --- primitives -----------------------------------------------------------------------------

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
  // Upper bounds are inclusive (le); a handful of bounds, so a linear scan is as fast as any.
  std::size_t bucket = 0;
  while (bucket < bounds_.size() && value > bounds_[bucket]) ++bucket;
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.bounds = bounds_;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(running);
  }
  // The count is the +Inf bucket, so the two always agree within one scrape.
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

namespace {

// Backslash and newline always; the double quote only inside a label value.
std::string escape(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string escape_label_value(std::string_view value) { return escape(value, /*quotes=*/true); }

std::string escape_help(std::string_view text) { return escape(text, /*quotes=*/false); }

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char text[64];
  // Whole numbers below 2^53 exactly, without an exponent; anything else shortest round-trip.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    const auto [end, ec] = std::to_chars(text, text + sizeof text, static_cast<long long>(value));
    return std::string(text, end);
  }
  const auto [end, ec] = std::to_chars(text, text + sizeof text, value, std::chars_format::general);
  return std::string(text, end);
}

void Exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += escape_help(help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void Exposition::labels(const Labels& labels, std::string_view extra_name, std::string_view extra_value) {
  if (labels.empty() && extra_name.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out_ += ',';
    first = false;
    out_ += name;
    out_ += "=\"";
    out_ += escape_label_value(value);
    out_ += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out_ += ',';
    out_ += extra_name;
    out_ += "=\"";
    out_ += extra_value;
    out_ += '"';
  }
  out_ += '}';
}

void Exposition::sample(std::string_view name, const Labels& sample_labels, double value) {
  out_ += name;
  labels(sample_labels);
  out_ += ' ';
  out_ += format_value(value);
  out_ += '\n';
}

void Exposition::histogram(std::string_view name, const Labels& sample_labels, const Histogram::Snapshot& snapshot) {
  const std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i < snapshot.cumulative.size(); ++i) {
    out_ += bucket;
    labels(sample_labels, "le", i < snapshot.bounds.size() ? format_value(snapshot.bounds[i]) : "+Inf");
    out_ += ' ';
    out_ += std::to_string(snapshot.cumulative[i]);
    out_ += '\n';
  }
  sample(std::string(name) + "_sum", sample_labels, snapshot.sum);
  sample(std::string(name) + "_count", sample_labels, static_cast<double>(snapshot.count));
}

// --- the server's metrics -------------------------------------------------------------------

RouteMetrics::RouteMetrics(std::string method_, std::string path_)
    : method(std::move(method_)), path(std::move(path_)), latency(kLatencyBounds) {}

void RouteMetrics::record(int status, std::optional<core::ErrorCode> error, std::chrono::nanoseconds elapsed) {
  const int status_class = std::clamp(status / 100, 1, 5);
  by_class[static_cast<std::size_t>(status_class - 1)].add();
  outcome[error ? 1 + static_cast<std::size_t>(*error) : 0].add();
  latency.observe(seconds(elapsed));
}

Metrics::Metrics(std::string version)
    : version_(std::move(version)),
      batch_jobs_(kBatchBounds),
      batch_seconds_(kCommitBounds),
      commit_seconds_(kCommitBounds) {
  unmatched_ = &routes_.emplace_back("", "unmatched");
}

RouteMetrics* Metrics::add_route(std::string method, std::string path) {
  return &routes_.emplace_back(std::move(method), std::move(path));
}

void Metrics::on_commit(const storage::CommitStats& stats) {
  batch_jobs_.observe(static_cast<double>(stats.jobs));
  batch_seconds_.observe(seconds(stats.batch));
  if (stats.committed) {
    commit_seconds_.observe(seconds(stats.commit));
  } else {
    failed_batches_.add();
  }
}

void Metrics::on_sms_attempt(core::SmsAttemptOutcome outcome) { sms_attempts_[static_cast<std::size_t>(outcome)].add(); }

void Metrics::on_send_blocked(core::BlockRule rule) { sends_blocked_[static_cast<std::size_t>(rule)].add(); }

void Metrics::on_webhook_attempt(core::WebhookAttemptOutcome outcome) {
  webhook_attempts_[static_cast<std::size_t>(outcome)].add();
}

std::string Metrics::render(const ScrapeState& state) const {
  Exposition out;
  out.family("cobinar_build_info", "gauge", "The running version (the value is always 1).");
  out.sample("cobinar_build_info", {{"version", version_}}, 1);

  // Requests, by route template: never a raw path, so no id or phone number becomes a label.
  // A route appears once it has answered a request.
  static constexpr std::array<std::string_view, 5> kClasses = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  auto route_labels = [](const RouteMetrics& route) {
    return Labels{{"method", route.method.empty() ? "other" : route.method}, {"route", route.path}};
  };
  out.family("cobinar_http_requests_total", "counter",
             "HTTP requests answered by the API, by route template and status class (route=\"unmatched\": no "
             "route took the request).");
  for (const RouteMetrics& route : routes_) {
    for (std::size_t c = 0; c < kClasses.size(); ++c) {
      const std::uint64_t count = route.by_class[c].value();
      if (count == 0) continue;
      Labels labels = route_labels(route);
      labels.emplace_back("status_class", std::string(kClasses[c]));
      out.sample("cobinar_http_requests_total", labels, static_cast<double>(count));
    }
  }
  out.family("cobinar_http_request_duration_seconds", "histogram",
             "Time from a request's last byte read to its answer built (routing and handler), by route template.");
  for (const RouteMetrics& route : routes_) {
    const auto snapshot = route.latency.snapshot();
    if (snapshot.count > 0) out.histogram("cobinar_http_request_duration_seconds", route_labels(route), snapshot);
  }
  out.family("cobinar_rate_limited_total", "counter", "Requests refused with 429 RATE_LIMITED, by route template.");
  for (const RouteMetrics& route : routes_) {
    const std::uint64_t count = route.outcome[1 + static_cast<std::size_t>(core::ErrorCode::kRateLimited)].value();
    const bool otp = route.path == "/v1/otp/send" || route.path == "/v1/otp/verify";
    if (count > 0 || otp) out.sample("cobinar_rate_limited_total", route_labels(route), static_cast<double>(count));
  }

  const RouteMetrics* send = nullptr;
  const RouteMetrics* verify = nullptr;
  for (const RouteMetrics& route : routes_) {
    if (route.method == "POST" && route.path == "/v1/otp/send") send = &route;
    if (route.method == "POST" && route.path == "/v1/otp/verify") verify = &route;
  }
  out.family("cobinar_otp_sends_total", "counter", "POST /v1/otp/send answers, by outcome.");
  for (const auto& [outcome, count] : outcomes(send, send_outcome, kSendOrder)) {
    out.sample("cobinar_otp_sends_total", {{"outcome", std::string(outcome)}}, static_cast<double>(count));
  }
  out.family("cobinar_otp_verifies_total", "counter", "POST /v1/otp/verify answers, by outcome.");
  for (const auto& [outcome, count] : outcomes(verify, verify_outcome, kVerifyOrder)) {
    out.sample("cobinar_otp_verifies_total", {{"outcome", std::string(outcome)}}, static_cast<double>(count));
  }

  if (state.open_connections) {
    out.family("cobinar_http_open_connections", "gauge", "Open client connections of the API listener.");
    out.sample("cobinar_http_open_connections", {}, static_cast<double>(*state.open_connections));
  }
  out.family("cobinar_http_rejected_requests_total", "counter",
             "Requests refused by the HTTP edge before routing (malformed framing, too large, timed out).");
  out.sample("cobinar_http_rejected_requests_total", {}, static_cast<double>(state.rejected_requests));
  out.family("cobinar_http_refused_connections_total", "counter",
             "Connections answered 503 and closed because --max-connections were open.");
  out.sample("cobinar_http_refused_connections_total", {}, static_cast<double>(state.refused_connections));

  auto queue = [&](std::string_view prefix, std::string_view what, const std::optional<QueueState>& queue_state) {
    if (!queue_state) return;
    const std::string depth = std::string(prefix) + "_queue_depth";
    const std::string age = std::string(prefix) + "_queue_oldest_age_seconds";
    out.family(depth, "gauge", std::string(what) + " waiting in the durable queue.");
    out.sample(depth, {}, static_cast<double>(queue_state->depth));
    out.family(age, "gauge", "Age of the oldest of the " + std::string(what) + " (0 when none).");
    out.sample(age, {}, queue_state->oldest_age_seconds);
  };
  queue("cobinar_sms", "SMS jobs", state.sms_queue);
  static constexpr std::array<std::string_view, 3> kSmsOutcomes = {"sent", "retry", "failed"};
  out.family("cobinar_sms_delivery_attempts_total", "counter",
             "SMS delivery attempts, by outcome (retry: failed, another attempt is scheduled).");
  for (std::size_t i = 0; i < kSmsOutcomes.size(); ++i) {
    out.sample("cobinar_sms_delivery_attempts_total", {{"outcome", std::string(kSmsOutcomes[i])}},
               static_cast<double>(sms_attempts_[i].value()));
  }
  out.family("cobinar_otp_blocked_total", "counter",
             "Sends refused by an abuse rule of the application's policy (SPEC §17), by rule.");
  for (core::BlockRule rule : core::kBlockRules) {
    out.sample("cobinar_otp_blocked_total", {{"rule", std::string(core::block_rule_name(rule))}},
               static_cast<double>(sends_blocked_[static_cast<std::size_t>(rule)].value()));
  }
  queue("cobinar_webhook", "webhook deliveries", state.webhook_queue);
  static constexpr std::array<std::string_view, 4> kWebhookOutcomes = {"delivered", "retry", "failed", "gone"};
  out.family("cobinar_webhook_delivery_attempts_total", "counter",
             "Webhook delivery attempts, by outcome (retry: failed, another attempt is scheduled; gone: the receiver "
             "answered 410 and the webhook was disabled).");
  for (std::size_t i = 0; i < kWebhookOutcomes.size(); ++i) {
    out.sample("cobinar_webhook_delivery_attempts_total", {{"outcome", std::string(kWebhookOutcomes[i])}},
               static_cast<double>(webhook_attempts_[i].value()));
  }

  out.family("cobinar_db_commit_batch_jobs", "histogram", "Write jobs committed together in one group commit.");
  out.histogram("cobinar_db_commit_batch_jobs", {}, batch_jobs_.snapshot());
  out.family("cobinar_db_commit_duration_seconds", "histogram", "Duration of the COMMIT of a group commit (the sync).");
  out.histogram("cobinar_db_commit_duration_seconds", {}, commit_seconds_.snapshot());
  out.family("cobinar_db_batch_duration_seconds", "histogram",
             "Duration of a group commit's transaction, BEGIN IMMEDIATE to the end of COMMIT.");
  out.histogram("cobinar_db_batch_duration_seconds", {}, batch_seconds_.snapshot());
  out.family("cobinar_db_failed_batches_total", "counter", "Group commits that failed and were rolled back whole.");
  out.sample("cobinar_db_failed_batches_total", {}, static_cast<double>(failed_batches_.value()));
  if (state.wal_bytes) {
    out.family("cobinar_db_wal_size_bytes", "gauge", "Size of the SQLite write-ahead log file.");
    out.sample("cobinar_db_wal_size_bytes", {}, *state.wal_bytes);
  }
  if (state.db_bytes) {
    out.family("cobinar_db_size_bytes", "gauge", "Size of the SQLite database file.");
    out.sample("cobinar_db_size_bytes", {}, *state.db_bytes);
  }

  // The standard process_* names, so stock dashboards work.
  if (state.process) {
    const ProcessState& p = *state.process;
    out.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    out.sample("process_resident_memory_bytes", {}, p.resident_bytes);
    out.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
    out.sample("process_virtual_memory_bytes", {}, p.virtual_bytes);
    out.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
    out.sample("process_cpu_seconds_total", {}, p.cpu_seconds);
    out.family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
    out.sample("process_start_time_seconds", {}, p.start_time_seconds);
    out.family("process_open_fds", "gauge", "Number of open file descriptors.");
    out.sample("process_open_fds", {}, p.open_fds);
    out.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
    out.sample("process_max_fds", {}, p.max_fds);
    out.family("cobinar_process_threads", "gauge", "Threads of the process.");
    out.sample("cobinar_process_threads", {}, p.threads);
  }
  return out.text();
}

std::optional<ProcessState> read_process_state() {
  ProcessState state;
  std::ifstream status("/proc/self/status");
  if (!status) return std::nullopt;
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream fields(line);
    std::string key;
    double value = 0;
    fields >> key >> value;
    if (key == "VmRSS:") state.resident_bytes = value * 1024;
    if (key == "VmSize:") state.virtual_bytes = value * 1024;
    if (key == "Threads:") state.threads = value;
  }

  // /proc/self/stat: the command name (field 2) may hold spaces, so count from its ')'.
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const std::size_t close = stat.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> rest{std::istream_iterator<std::string>(fields), std::istream_iterator<std::string>()};
    // rest[0] is field 3 (state): utime is field 14, stime 15, starttime 22.
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    if (rest.size() > 19 && ticks > 0) {
      state.cpu_seconds = (std::stod(rest[11]) + std::stod(rest[12])) / ticks;
      std::ifstream system_stat("/proc/stat");
      while (std::getline(system_stat, line)) {
        if (line.starts_with("btime ")) {
          state.start_time_seconds = std::stod(line.substr(6)) + std::stod(rest[19]) / ticks;
          break;
        }
      }
    }
  }

  if (DIR* fds = ::opendir("/proc/self/fd")) {
    double count = 0;
    while (const dirent* entry = ::readdir(fds)) {
      if (entry->d_name[0] != '.') ++count;
    }
    ::closedir(fds);
    state.open_fds = count - 1;  // not the one this count held open
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    state.max_fds = limit.rlim_cur == RLIM_INFINITY ? -1 : static_cast<double>(limit.rlim_cur);
  }
  return state;
}

}  // namespace app::metrics
