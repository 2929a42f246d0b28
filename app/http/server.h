// The HTTP edge: one httplib server (plain or TLS) configured from HttpOptions, with request
// ids, the access log, JSON errors for everything httplib answers by itself, and the Router.
// bind() and run() are called from one thread; stop() from any thread.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "app/http/router.h"
#include "app/log.h"
#include "core/random.h"

namespace app::http {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                                   // 0 = any free port
  int threads = 8;                                   // worker threads kept warm
  int max_threads = 1024;                            // ...grown on demand up to this (one per open connection)
  std::size_t max_body_bytes = 64 * 1024;            // SPEC §1: larger bodies get 413
  std::chrono::seconds read_timeout{10};             // per read of a request
  std::chrono::seconds write_timeout{10};            // per write of a response
  std::chrono::seconds keep_alive_timeout{5};        // idle time before a connection is closed
  std::size_t keep_alive_max_count = 1000;           // requests per connection
  std::string tls_cert;                              // both set = serve HTTPS
  std::string tls_key;
};

class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class HttpServer {
 public:
  HttpServer(const HttpOptions& options, const Router& router, Log& log, core::Random& random);

  // Binds the listen address; returns the bound port. Throws StartupError.
  int bind();
  // Serves until stop(); in-flight requests finish before it returns.
  void run();
  // Safe to call before run() has started listening: the stop is never lost.
  void stop();

 private:
  void configure();

  HttpOptions options_;
  const Router& router_;
  Log& log_;
  core::Random& random_;
  std::unique_ptr<httplib::Server> server_;
  int listen_socket_ = -1;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> finished_{false};
};

// A valid incoming x-request-id (1–128 of [A-Za-z0-9._:-]).
bool is_valid_request_id(std::string_view id);

}  // namespace app::http
