#include "app/http/server.h"

#include <sys/socket.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <thread>

#include "app/http/elastic_pool.h"
#include "app/http/error_mapping.h"
#include "core/crypto.h"

namespace app::http {

namespace {

// Per worker thread: the request being served. httplib calls the pre-routing handler, the
// handler, the error handler and the logger for one request on one thread.
struct RequestScope {
  bool active = false;
  std::string id;
  std::chrono::steady_clock::time_point started;
};
thread_local RequestScope current_request;

constexpr char kRequestIdHeader[] = "x-request-id";

}  // namespace

bool is_valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

HttpServer::HttpServer(const HttpOptions& options, const Router& router, Log& log, core::Random& random)
    : options_(options), router_(router), log_(log), random_(random) {
  if (!options_.tls_cert.empty() || !options_.tls_key.empty()) {
    if (options_.tls_cert.empty() || options_.tls_key.empty()) {
      throw StartupError("--tls-cert and --tls-key must be given together");
    }
    auto tls = std::make_unique<httplib::SSLServer>(options_.tls_cert.c_str(), options_.tls_key.c_str());
    if (!tls->is_valid()) {
      throw StartupError("cannot load TLS certificate '" + options_.tls_cert + "' or key '" + options_.tls_key + "'");
    }
    server_ = std::move(tls);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  configure();
}

void HttpServer::configure() {
  httplib::Server& s = *server_;
  const auto min_threads = static_cast<std::size_t>(options_.threads);
  const auto max_threads = static_cast<std::size_t>(options_.max_threads);
  s.new_task_queue = [min_threads, max_threads] {
    return new ElasticPool(min_threads, max_threads, std::chrono::seconds(30));
  };
  s.set_payload_max_length(options_.max_body_bytes);
  s.set_read_timeout(options_.read_timeout);
  s.set_write_timeout(options_.write_timeout);
  s.set_keep_alive_timeout(options_.keep_alive_timeout.count());
  s.set_keep_alive_max_count(options_.keep_alive_max_count);
  // Without this, Nagle's algorithm and delayed ACKs add ~40 ms to every response.
  s.set_tcp_nodelay(true);
  // Remember the listening socket: bind() widens its accept queue (see there).
  s.set_socket_options([this](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_socket_ = sock;
  });

  auto new_request_id = [this] {
    std::array<std::uint8_t, 12> bytes{};
    random_.fill(bytes);
    return core::hex_encode(bytes);
  };

  s.set_pre_routing_handler([new_request_id](const httplib::Request& req, httplib::Response& res) {
    const std::string incoming = req.get_header_value(kRequestIdHeader);
    current_request = RequestScope{true, is_valid_request_id(incoming) ? incoming : new_request_id(),
                                   std::chrono::steady_clock::now()};
    res.set_header(kRequestIdHeader, current_request.id);
    return httplib::Server::HandlerResponse::Unhandled;
  });

  const auto dispatch = [this](const httplib::Request& req, httplib::Response& res) {
    router_.dispatch(req, res, current_request.id);
  };
  // One catch-all per method: the Router owns matching, so it can tell 404 from 405.
  s.Get(".*", dispatch);
  s.Post(".*", dispatch);
  s.Put(".*", dispatch);
  s.Patch(".*", dispatch);
  s.Delete(".*", dispatch);
  s.Options(".*", dispatch);

  // Statuses httplib sets by itself (malformed request, 413, 414, unknown method) get the
  // envelope too. Our own errors already have a body and are left alone.
  s.set_error_handler(httplib::Server::HandlerWithResponse([new_request_id](const httplib::Request&, httplib::Response& res) {
    if (!res.has_header(kRequestIdHeader)) {
      if (!current_request.active) {
        current_request = RequestScope{true, new_request_id(), std::chrono::steady_clock::now()};
      }
      res.set_header(kRequestIdHeader, current_request.id);
    }
    if (res.body.empty()) {
      write_error(res, error_for_status(res.status), res.get_header_value(kRequestIdHeader));
    }
    return httplib::Server::HandlerResponse::Handled;
  }));

  // Never lets exception text reach a client (httplib would put it in a header).
  s.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
    log_.error("request failed", {{"request_id", current_request.id}});
    res.headers.erase("EXCEPTION_WHAT");
    write_error(res, error_for_exception(error), current_request.id);
  });

  s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const double duration_ms =
        current_request.active
            ? std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - current_request.started).count()
            : 0.0;
    // The path only: never the query string or headers, where credentials could travel.
    log_.info("request", {{"method", req.method},
                          {"path", req.path},
                          {"status", res.status},
                          {"duration_ms", std::round(duration_ms * 1000) / 1000},
                          {"request_id", res.get_header_value(kRequestIdHeader)},
                          {"remote", req.remote_addr}});
    current_request.active = false;
  });
}

int HttpServer::bind() {
  errno = 0;
  const int port = options_.port == 0 ? server_->bind_to_any_port(options_.host)
                                      : (server_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port < 0) {
    const std::string reason = errno != 0 ? std::strerror(errno) : "address not available";
    throw StartupError("cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " + reason);
  }
  // httplib listens with a backlog of 5 (a compile-time constant of Debian's library), so a
  // burst of new connections overflows the accept queue and stalls for a SYN retry. Linux lets
  // listen() be called again on a listening socket to raise it.
  if (listen_socket_ >= 0) ::listen(listen_socket_, SOMAXCONN);
  return port;
}

void HttpServer::run() {
  if (!stop_requested_) server_->listen_after_bind();
  finished_ = true;
}

void HttpServer::stop() {
  stop_requested_ = true;
  // httplib ignores stop() until its accept loop runs; wait for it (or for run() to end).
  while (!server_->is_running() && !finished_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_->stop();
}

}  // namespace app::http
