// The route table and its dispatcher: the matching route's handler, 404 for an unknown path,
// 405 (with Allow) for a known path and a wrong method, 415 for a non-JSON body. A handler can
// never throw past the dispatcher. Paths are matched segment by segment against templates of
// the same length, so the cost of a request does not grow with the length of its path beyond
// one scan. Immutable after construction; thread-safe.
#pragma once

#include <httplib.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "app/http/reply.h"
#include "app/log.h"
#include "app/metrics.h"

namespace app::http {

struct Route {
  std::string method;  // GET, POST, PATCH, DELETE, PUT
  std::string path;    // OpenAPI template, e.g. /v1/projects/{id}
  Handler handler;
};

class Router {
 public:
  // With `metrics`, every dispatched request is counted under its route template (registered
  // here, once), or under "unmatched" when no route takes it.
  Router(std::vector<Route> routes, Log& log, metrics::Metrics* metrics = nullptr);

  void dispatch(const httplib::Request& request, httplib::Response& response,
                const std::string& request_id) const;

  // "GET /v1/health", ... in registration order; the OpenAPI test compares these.
  std::vector<std::string> signatures() const;

  struct Segment {
    std::string literal;
    bool parameter = false;  // a {parameter}: matches any non-empty segment
  };

 private:
  struct CompiledRoute {
    Route route;
    std::vector<Segment> segments;
    metrics::RouteMetrics* metrics = nullptr;
  };

  std::vector<CompiledRoute> routes_;
  std::size_t max_segments_ = 0;
  Log& log_;
  // Storage outages fail every request alike: their "handler failed" line is written at most
  // once a minute (the writer's own report says why), with the number held back.
  bool throttle_storage_failure() const;
  mutable std::mutex storage_failure_mutex_;
  mutable std::chrono::steady_clock::time_point storage_failure_logged_{};
  mutable long long storage_failures_held_back_ = 0;
  metrics::RouteMetrics* unmatched_ = nullptr;
};

// The bytes of a JSON answer body, as every answer is serialised.
std::string reply_bytes(const nlohmann::json& body);
// Writes a reply (or an error envelope) into an httplib response.
void write_reply(httplib::Response& response, const Reply& reply);
void write_error(httplib::Response& response, const core::Error& error, std::string_view request_id);

// Decodes %XX escapes; nullopt for a malformed escape.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace app::http
