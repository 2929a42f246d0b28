#include "app/http/router.h"

#include <algorithm>
#include <chrono>

#include "app/http/error_mapping.h"
#include "app/http/wire.h"

namespace app::http {

namespace {

// "/v1/projects/{id}" -> {"v1", "projects", {id}}; "/" -> {""} and "/console/" -> {"console", ""}:
// an empty literal segment matches only an empty path segment (a trailing slash).
std::vector<Router::Segment> template_segments(const std::string& path) {
  std::vector<Router::Segment> segments;
  std::size_t start = 1;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    std::string segment = path.substr(start, end - start);
    const bool parameter = segment.starts_with("{");
    segments.push_back(Router::Segment{parameter ? std::string() : std::move(segment), parameter});
    start = end + 1;
  }
  return segments;
}

// The raw path's segments, or false when it has more than `most` (no route can match then).
bool split_path(std::string_view path, std::size_t most, std::vector<std::string_view>& segments) {
  if (path.empty() || path.front() != '/') return false;
  std::size_t start = 1;
  while (true) {
    if (segments.size() == most) return false;
    const std::size_t end = path.find('/', start);
    segments.push_back(path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

bool is_json_media_type(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  type.erase(std::remove_if(type.begin(), type.end(), [](char c) { return c == ' ' || c == '\t'; }), type.end());
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  return type == "application/json" || (type.starts_with("application/") && type.ends_with("+json"));
}

bool carries_body(const httplib::Request& request) {
  return !request.body.empty() || (request.has_header("Content-Length") &&
                                   request.get_header_value("Content-Length") != "0");
}


}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = wire::hex_value(text[i + 1]), lo = wire::hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
    i += 2;
  }
  return out;
}

Reply Reply::data(nlohmann::json data, int status) {
  return Reply{status, nlohmann::json{{"data", std::move(data)}}, {}, std::nullopt, {}};
}

Reply Reply::list(nlohmann::json items, const std::optional<std::string>& next_cursor) {
  return Reply{200,
               nlohmann::json{{"data", std::move(items)},
                              {"nextCursor", next_cursor ? nlohmann::json(*next_cursor) : nlohmann::json(nullptr)}},
               {},
               std::nullopt,
               {}};
}

Reply Reply::deleted(const std::string& id) { return data({{"id", id}, {"deleted", true}}); }

Reply Reply::plain(std::string text, std::string content_type, int status) {
  return Reply{status, nullptr, {}, std::move(text), std::move(content_type)};
}

std::string reply_bytes(const nlohmann::json& body) {
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void write_reply(httplib::Response& response, const Reply& reply) {
  response.status = reply.status;
  for (const auto& [name, value] : reply.headers) response.set_header(name, value);
  if (reply.text) {
    response.set_content(*reply.text, reply.content_type);
    return;
  }
  response.set_content(reply_bytes(reply.body), "application/json; charset=utf-8");
}

void write_error(httplib::Response& response, const core::Error& error, std::string_view request_id) {
  Reply reply{http_status(error.code), error_envelope(error, request_id), {}, std::nullopt, {}};
  if ((error.code == core::ErrorCode::kRateLimited || error.code == core::ErrorCode::kIdempotencyKeyInUse) &&
      error.details.contains("retryAfter")) {
    reply.headers.emplace_back("Retry-After", error.details["retryAfter"].dump());
  }
  if (error.code == core::ErrorCode::kUnauthenticated) reply.headers.emplace_back("WWW-Authenticate", "Bearer");
  write_reply(response, reply);
}

Router::Router(std::vector<Route> routes, Log& log, metrics::Metrics* metrics) : log_(log) {
  if (metrics != nullptr) unmatched_ = metrics->unmatched();
  for (auto& route : routes) {
    auto segments = template_segments(route.path);
    max_segments_ = std::max(max_segments_, segments.size());
    metrics::RouteMetrics* counted = metrics != nullptr ? metrics->add_route(route.method, route.path) : nullptr;
    routes_.push_back(CompiledRoute{std::move(route), std::move(segments), counted});
  }
}

namespace {

// Counts the request when it is answered, under the route that took it (or "unmatched"):
// the status class, the error code of an error answer, and the time taken.
class Recorder {
 public:
  Recorder(metrics::RouteMetrics* route, const httplib::Response& response)
      : route_(route), response_(response), started_(std::chrono::steady_clock::now()) {}
  ~Recorder() {
    if (route_ != nullptr) route_->record(response_.status, error_, std::chrono::steady_clock::now() - started_);
  }
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  void route(metrics::RouteMetrics* route) { route_ = route; }
  void error(core::ErrorCode code) { error_ = code; }

 private:
  metrics::RouteMetrics* route_;
  const httplib::Response& response_;
  std::chrono::steady_clock::time_point started_;
  std::optional<core::ErrorCode> error_;
};

}  // namespace

std::vector<std::string> Router::signatures() const {
  std::vector<std::string> out;
  for (const auto& compiled : routes_) out.push_back(compiled.route.method + " " + compiled.route.path);
  return out;
}

void Router::dispatch(const httplib::Request& request, httplib::Response& response,
                      const std::string& request_id) const {
  Recorder recorder(unmatched_, response);
  // Match on the raw target so an encoded '/' inside a parameter stays inside it.
  const std::string raw_path = request.target.substr(0, request.target.find('?'));
  const std::string method = request.method == "HEAD" ? "GET" : request.method;

  std::vector<std::string_view> segments;
  segments.reserve(max_segments_);
  const bool splittable = split_path(raw_path, max_segments_, segments);

  std::vector<std::string> allowed;
  for (const auto& compiled : routes_) {
    if (!splittable || compiled.segments.size() != segments.size()) continue;
    bool matches = true;
    for (std::size_t i = 0; i < segments.size() && matches; ++i) {
      matches = compiled.segments[i].parameter ? !segments[i].empty() : compiled.segments[i].literal == segments[i];
    }
    if (!matches) continue;
    if (compiled.route.method != method) {
      allowed.push_back(compiled.route.method);
      continue;
    }
    if (compiled.metrics != nullptr) recorder.route(compiled.metrics);
    if (carries_body(request) && !is_json_media_type(request.get_header_value("Content-Type"))) {
      recorder.error(core::ErrorCode::kUnsupportedMediaType);
      write_error(response, error_for_status(415), request_id);
      return;
    }
    HttpRequest http_request{request, {}, request_id};
    for (std::size_t i = 0; i < segments.size(); ++i) {
      if (!compiled.segments[i].parameter) continue;
      auto decoded = percent_decode(segments[i]);
      if (!decoded) {
        recorder.error(core::ErrorCode::kInvalidArgument);
        write_error(response, core::Error::invalid_argument("Malformed percent-encoding in the path."), request_id);
        return;
      }
      http_request.path_params.push_back(std::move(*decoded));
    }
    try {
      auto result = compiled.route.handler(http_request);
      if (result.ok()) {
        write_reply(response, result.value());
      } else {
        recorder.error(result.error().code);
        write_error(response, result.error(), request_id);
      }
    } catch (const std::exception& e) {
      const core::Error error = error_for_exception(std::current_exception());
      if (error.code != core::ErrorCode::kUnavailable || !throttle_storage_failure()) {
        log_.error("handler failed", {{"request_id", request_id}, {"route", compiled.route.path}, {"what", e.what()}});
      }
      recorder.error(error.code);
      write_error(response, error, request_id);
    } catch (...) {
      log_.error("handler failed", {{"request_id", request_id}, {"route", compiled.route.path}});
      const core::Error error = error_for_exception(std::current_exception());
      recorder.error(error.code);
      write_error(response, error, request_id);
    }
    return;
  }

  if (!allowed.empty()) {
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    response.set_header("Allow", allow);
    recorder.error(core::ErrorCode::kMethodNotAllowed);
    write_error(response,
                core::Error{core::ErrorCode::kMethodNotAllowed, request.method + " is not allowed on this path.",
                            nlohmann::json{{"allowed", allowed}}},
                request_id);
    return;
  }
  // An echoed path is cut short: an 8 KiB path must not cost an 8 KiB answer.
  recorder.error(core::ErrorCode::kNotFound);
  const std::string shown = request.path.size() > 200 ? request.path.substr(0, 200) + "…" : request.path;
  write_error(response, core::Error::not_found("No route for " + request.method + " " + shown + "."), request_id);
}

bool Router::throttle_storage_failure() const {
  const auto now = std::chrono::steady_clock::now();
  long long held_back = 0;
  {
    std::lock_guard lock(storage_failure_mutex_);
    if (storage_failure_logged_ != std::chrono::steady_clock::time_point{} &&
        now - storage_failure_logged_ < std::chrono::minutes(1)) {
      ++storage_failures_held_back_;
      return true;
    }
    storage_failure_logged_ = now;
    held_back = std::exchange(storage_failures_held_back_, 0);
  }
  if (held_back > 0) log_.error("handler failed: storage unavailable", {{"repeated", held_back}});
  return false;
}

}  // namespace app::http
