// The HTTP edge: our own HTTP/1.1 connection loop (plain or TLS) in front of the Router.
//
// One event-loop thread owns the listening socket and every connection that is waiting for
// bytes (epoll, so an idle keep-alive connection costs no thread and no CPU). When a
// connection becomes readable it is handed to one of `threads` workers, which reads, frames the
// request strictly (wire.h), dispatches it, writes the answer and hands the connection back.
// Every framing error is answered in the JSON envelope and closes the connection; deadlines
// bound the head, the body and idle keep-alive time; `max_connections` bounds open sockets and
// new clients past it get a fast 503. bind() and run() are called from one thread; stop() from
// any thread.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "app/http/router.h"
#include "app/log.h"
#include "core/random.h"

namespace app::http {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                                  // 0 = any free port
  int threads = 16;                                 // request workers (connections do not hold one)
  int max_connections = 4096;                       // open connections; over it, a fast 503
  std::size_t max_body_bytes = 64 * 1024;           // SPEC §1: larger bodies get 413, unread
  std::chrono::milliseconds head_timeout{10000};    // request head, from open or from the last answer
  std::chrono::milliseconds body_timeout{30000};    // request body, from the end of the head
  std::chrono::milliseconds keep_alive_timeout{5000};  // idle time after an answer
  std::chrono::milliseconds write_timeout{10000};   // one answer, written
  std::string tls_cert;                             // both set = serve HTTPS
  std::string tls_key;
  bool access_log = true;                           // one log line per answered request
};

// Counters of the edge itself, read at any time (for metrics).
struct HttpServerStats {
  std::size_t open_connections = 0;
  std::uint64_t rejected_requests = 0;    // refused before routing: framing errors, 408s
  std::uint64_t refused_connections = 0;  // over max_connections: the fast 503
};

class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class HttpServer {
 public:
  HttpServer(const HttpOptions& options, const Router& router, Log& log, core::Random& random);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listen address; returns the bound port. Throws StartupError.
  int bind();
  // Serves until stop(); in-flight requests finish before it returns.
  void run();
  // Safe to call before run() has started: the stop is never lost.
  void stop();
  // Re-reads --tls-cert and --tls-key for new connections (open ones keep theirs); returns the
  // certificate path, empty without TLS. Throws StartupError and keeps serving with the old
  // pair if the new one cannot be loaded. Thread-safe.
  std::string reload_tls();
  // Thread-safe.
  HttpServerStats stats() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// A valid incoming x-request-id (1–128 of [A-Za-z0-9._:-]).
bool is_valid_request_id(std::string_view id);

// The path as the access log shows it: a segment that looks like a phone number (8+ digits with
// only + space - . ( ) around them) keeps its first two and last three digits, the rest are '*':
// /v1/users/+442012345678 -> /v1/users/+44*******678.
std::string loggable_path(std::string_view path);

}  // namespace app::http
