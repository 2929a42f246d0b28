#include "app/http/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "app/http/error_mapping.h"
#include "app/http/wire.h"
#include "core/crypto.h"

namespace app::http {

namespace {

using Clock = std::chrono::steady_clock;

constexpr char kRequestIdHeader[] = "x-request-id";
// A connection's unparsed bytes never exceed this: a head (≤ 24 KiB) plus a body (≤ 64 KiB)
// fit, so a full buffer that holds no complete request is a client error.
constexpr std::size_t kMaxBuffered = 128 * 1024;
// After refusing a request we half-close and discard what the client still sends for a
// moment, so our answer is not lost to a TCP reset; the bytes are never parsed.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kMaxLingerBytes = 1 << 20;
// How often the event loop looks for passed deadlines.
constexpr auto kTick = std::chrono::milliseconds(100);

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

// The IMF-fixdate of now, formatted once per second per thread.
const std::string& http_date() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm parts{};
    gmtime_r(&now, &parts);
    char text[64];
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    cached = text;
    cached_second = now;
  }
  return cached;
}

// application/x-www-form-urlencoded decoding of one query component ('+' is a space).
std::string decode_query_component(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && wire::hex_value(text[i + 1]) >= 0 &&
               wire::hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(wire::hex_value(text[i + 1]) << 4 | wire::hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

void parse_query(std::string_view query, httplib::Params& params) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (!pair.empty()) {
      const std::size_t eq = pair.find('=');
      params.emplace(decode_query_component(pair.substr(0, eq)),
                     eq == std::string_view::npos ? std::string() : decode_query_component(pair.substr(eq + 1)));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

std::string address_text(const sockaddr_storage& address, int& port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    port = ntohs(v4.sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    port = ntohs(v6.sin6_port);
  }
  return text;
}

std::string tls_error_text() {
  const unsigned long code = ERR_get_error();
  char text[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

std::string loggable_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, end - start);
    std::size_t digits = 0;
    bool phone_like = !segment.empty();
    for (char c : segment) {
      if (c >= '0' && c <= '9') ++digits;
      else if (c != '+' && c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') phone_like = false;
    }
    if (phone_like && digits >= 8) {
      // Keep the country-code end and the last three digits: enough to tell numbers apart in
      // a log, not enough to call anyone.
      std::size_t seen = 0;
      for (char c : segment) {
        const bool digit = c >= '0' && c <= '9';
        out += digit && seen >= 2 && seen + 3 < digits ? '*' : c;
        if (digit) ++seen;
      }
    } else {
      out += segment;
    }
    if (end == path.size()) break;
    out += '/';
    start = end + 1;
  }
  return out;
}

bool is_valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// One client connection. Owned by the server's table; used by the event loop while parked
// and by exactly one worker while `busy` (both under Impl::mutex_).
struct Connection {
  enum class Phase { kHead, kBody, kLinger };

  int fd = -1;
  SSL* tls = nullptr;
  bool handshake_done = false;
  std::string remote_addr;
  int remote_port = 0;

  std::string in;  // received, not yet consumed
  Phase phase = Phase::kHead;
  bool answered_before = false;   // an answer was written: waiting now is keep-alive idling
  Clock::time_point head_since;   // connection open, or the previous answer
  Clock::time_point body_since;   // end of the current head
  Clock::time_point deadline;
  std::size_t lingered = 0;

  // The request being read.
  wire::RequestHead head;
  std::string body;
  std::optional<wire::ChunkedDecoder> chunked;

  // Parking state (guarded by Impl::mutex_).
  bool busy = false;
  bool timed_out = false;

  ~Connection() {
    if (tls != nullptr) SSL_free(tls);
    if (fd >= 0) ::close(fd);
  }
};

class HttpServer::Impl {
 public:
  Impl(const HttpOptions& options, const Router& router, Log& log, core::Random& random);
  ~Impl();

  int bind();
  void run();
  void stop();
  // Loads --tls-cert/--tls-key again for new connections; returns the certificate path (empty
  // without TLS). Throws StartupError and keeps the current ones if they cannot be loaded.
  std::string reload_tls();
  HttpServerStats stats();

 private:
  enum class Outcome { kPark, kClose };
  enum class ReadStatus { kWouldBlock, kFull, kEof, kError };
  enum class Progress { kNeedMore, kClose, kLinger };

  // Event loop thread.
  void accept_connections();
  void refuse_over_capacity(int fd);
  void expire_deadlines(Clock::time_point now);
  void hand_to_worker(Connection* connection);
  void close_idle_connections();

  // Workers.
  void work();
  Outcome serve(Connection& c);
  Outcome on_deadline(Connection& c);
  Outcome linger(Connection& c);
  Progress process(Connection& c);
  Progress refuse(Connection& c, int status, const std::string& message, const std::string& method = "-",
                  const std::string& path = "-");
  bool respond(Connection& c);
  void finish(Connection* c, Outcome outcome);

  ReadStatus read_available(Connection& c);
  bool write_all(Connection& c, std::string_view data);
  bool wait_for(int fd, short events, Clock::time_point deadline);
  std::string new_request_id();
  std::string serialize(const httplib::Response& response, bool keep_alive, bool head_only) const;
  void log_request(const std::string& method, const std::string& path, int status, Clock::time_point started,
                   const std::string& request_id, const std::string& remote);

  HttpOptions options_;
  const Router& router_;
  Log& log_;
  core::Random& random_;
  std::mutex random_mutex_;  // the injected Random need not be thread-safe (tests seed it)
  wire::Limits limits_;
  std::mutex tls_mutex_;  // tls_context_ is replaced by reload_tls() (SIGHUP)
  SSL_CTX* tls_context_ = nullptr;

  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  Clock::time_point last_refusal_log_{};  // event loop thread only
  std::uint64_t refused_since_log_ = 0;
  std::atomic<std::uint64_t> rejected_requests_{0};
  std::atomic<std::uint64_t> refused_connections_{0};

  std::mutex mutex_;  // connections_, each Connection's busy/timed_out, epoll re-arming
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;

  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::deque<Connection*> queue_;
  bool workers_exit_ = false;
  std::vector<std::thread> workers_;
};

// --- construction and binding ----------------------------------------------------------------

// A server context with our settings and this certificate chain and key; throws StartupError.
SSL_CTX* make_tls_context(const std::string& cert, const std::string& key) {
  SSL_CTX* context = SSL_CTX_new(TLS_server_method());
  if (context == nullptr) throw StartupError("cannot create a TLS context: " + tls_error_text());
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(context, cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(context, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(context) != 1) {
    SSL_CTX_free(context);
    throw StartupError("cannot load TLS certificate '" + cert + "' or key '" + key + "': " + tls_error_text());
  }
  return context;
}

std::string HttpServer::Impl::reload_tls() {
  if (options_.tls_cert.empty()) return "";
  SSL_CTX* fresh = make_tls_context(options_.tls_cert, options_.tls_key);
  SSL_CTX* old = nullptr;
  {
    std::lock_guard lock(tls_mutex_);
    old = std::exchange(tls_context_, fresh);
  }
  // Connections already open hold their own reference to the old context and keep it.
  SSL_CTX_free(old);
  return options_.tls_cert;
}

HttpServer::Impl::Impl(const HttpOptions& options, const Router& router, Log& log, core::Random& random)
    : options_(options), router_(router), log_(log), random_(random) {
  limits_.max_body = options_.max_body_bytes;
  if (!options_.tls_cert.empty() || !options_.tls_key.empty()) {
    if (options_.tls_cert.empty() || options_.tls_key.empty()) {
      throw StartupError("--tls-cert and --tls-key must be given together");
    }
    tls_context_ = make_tls_context(options_.tls_cert, options_.tls_key);
  }
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) throw StartupError(std::string("cannot create the event loop: ") + std::strerror(errno));
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = nullptr;  // the wake-up descriptor
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
}

HttpServer::Impl::~Impl() {
  connections_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (tls_context_ != nullptr) SSL_CTX_free(tls_context_);
}

int HttpServer::Impl::bind() {
  // Each open connection is a descriptor: make the soft limit as large as we are allowed.
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      static_cast<rlim_t>(options_.max_connections) + 256 > limit.rlim_cur) {
    const int fitting = limit.rlim_cur > 512 ? static_cast<int>(limit.rlim_cur - 256) : 256;
    log_.warn("max-connections lowered to fit the open-file limit",
              {{"requested", options_.max_connections}, {"max_connections", fitting}, {"nofile", limit.rlim_cur}});
    options_.max_connections = fitting;
  }

  const std::string where = options_.host + ":" + std::to_string(options_.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int resolved = ::getaddrinfo(options_.host.c_str(), std::to_string(options_.port).c_str(), &hints, &found);
  if (resolved != 0) throw StartupError("cannot listen on " + where + ": " + ::gai_strerror(resolved));
  std::string reason = "address not available";
  for (addrinfo* candidate = found; candidate != nullptr; candidate = candidate->ai_next) {
    const int fd = ::socket(candidate->ai_family, candidate->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                            candidate->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR lets a restarted server bind while old connections sit in TIME_WAIT. Never
    // SO_REUSEPORT: a second server on the same port must fail, not take half the traffic.
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd, candidate->ai_addr, candidate->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      listen_fd_ = fd;
      break;
    }
    reason = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0) throw StartupError("cannot listen on " + where + ": " + reason);

  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &length);
  int port = 0;
  address_text(bound, port);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = &listen_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &event);
  return port;
}

// --- the event loop ---------------------------------------------------------------------------

void HttpServer::Impl::run() {
  if (stopping_) return;
  for (int i = 0; i < std::max(1, options_.threads); ++i) workers_.emplace_back([this] { work(); });

  std::vector<epoll_event> events(256);
  auto next_scan = Clock::now() + kTick;
  bool accepting = listen_fd_ >= 0;
  while (true) {
    const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(next_scan - Clock::now()).count();
    const int ready = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                                   static_cast<int>(std::clamp<long long>(wait_ms, 0, kTick.count())));
    for (int i = 0; i < ready; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == nullptr) {
        std::uint64_t count = 0;
        [[maybe_unused]] auto drained = ::read(wake_fd_, &count, sizeof count);
      } else if (tag == &listen_fd_) {
        if (accepting) accept_connections();
      } else {
        hand_to_worker(static_cast<Connection*>(tag));
      }
    }
    const auto now = Clock::now();
    if (now >= next_scan) {
      expire_deadlines(now);
      next_scan = now + kTick;
      // accept() may have failed for lack of descriptors: try again each tick.
      if (accepting && !stopping_) accept_connections();
    }
    if (stopping_) {
      if (accepting) {
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
        ::close(listen_fd_);
        listen_fd_ = -1;
        accepting = false;
      }
      close_idle_connections();
      std::unique_lock lock(mutex_);
      if (connections_.empty()) break;
    }
  }

  {
    std::lock_guard lock(queue_mutex_);
    workers_exit_ = true;
  }
  queue_ready_.notify_all();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
  std::lock_guard lock(mutex_);
  connections_.clear();
}

void HttpServer::Impl::stop() {
  stopping_ = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
}

HttpServerStats HttpServer::Impl::stats() {
  HttpServerStats stats;
  stats.rejected_requests = rejected_requests_.load(std::memory_order_relaxed);
  stats.refused_connections = refused_connections_.load(std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  stats.open_connections = connections_.size();
  return stats;
}

void HttpServer::Impl::accept_connections() {
  for (int accepted = 0; accepted < 256; ++accepted) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        log_.warn("accept failed: out of file descriptors");
      }
      return;
    }
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);

    std::unique_lock lock(mutex_);
    if (connections_.size() >= static_cast<std::size_t>(options_.max_connections)) {
      lock.unlock();
      refuse_over_capacity(fd);
      continue;
    }
    auto connection = std::make_unique<Connection>();
    Connection* c = connection.get();
    c->fd = fd;
    c->remote_addr = address_text(address, c->remote_port);
    c->head_since = Clock::now();
    c->deadline = c->head_since + options_.head_timeout;
    if (!options_.tls_cert.empty()) {
      std::lock_guard tls_lock(tls_mutex_);
      c->tls = SSL_new(tls_context_);
      if (c->tls == nullptr || SSL_set_fd(c->tls, fd) != 1) continue;  // the destructor closes fd
    }
    connections_.emplace(c, std::move(connection));
    epoll_event event{};
    event.events = EPOLLIN | EPOLLONESHOT;
    event.data.ptr = c;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
  }
}

// Over the cap: a fast, complete 503 in the envelope, then close. Written without blocking; a
// fresh socket's send buffer always has room for it.
void HttpServer::Impl::refuse_over_capacity(int fd) {
  const std::string request_id = new_request_id();
  if (options_.tls_cert.empty()) {
    httplib::Response response;
    write_error(response, core::Error::unavailable("Too many open connections; try again shortly."), request_id);
    response.set_header("Retry-After", "1");
    response.set_header(kRequestIdHeader, request_id);
    const std::string bytes = serialize(response, false, false);
    [[maybe_unused]] auto sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(fd, SHUT_WR);
    char discard[4096];
    while (::recv(fd, discard, sizeof discard, MSG_DONTWAIT) > 0) {
    }
  }
  ::close(fd);
  refused_connections_.fetch_add(1, std::memory_order_relaxed);
  // One line per second at most: a flood of refused clients must not flood the log too.
  ++refused_since_log_;
  const auto now = Clock::now();
  if (now - last_refusal_log_ >= std::chrono::seconds(1)) {
    log_.warn("connections refused: at max-connections",
              {{"max_connections", options_.max_connections}, {"refused", refused_since_log_}});
    refused_since_log_ = 0;
    last_refusal_log_ = now;
  }
}

void HttpServer::Impl::hand_to_worker(Connection* connection) {
  {
    std::lock_guard lock(mutex_);
    if (connection->busy) return;
    connection->busy = true;
  }
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(connection);
  }
  queue_ready_.notify_one();
}

void HttpServer::Impl::expire_deadlines(Clock::time_point now) {
  std::vector<Connection*> expired;
  {
    std::lock_guard lock(mutex_);
    for (auto& [c, owned] : connections_) {
      if (c->busy || c->deadline > now) continue;
      // Disarm it, so readiness cannot hand it to a second worker meanwhile.
      epoll_event event{};
      event.events = EPOLLONESHOT;
      event.data.ptr = c;
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &event);
      c->timed_out = true;
      expired.push_back(c);
    }
  }
  for (Connection* c : expired) hand_to_worker(c);
}

// While stopping: a request that has started arriving is still finished (its deadlines
// still apply); connections between requests are closed.
static bool is_between_requests(const Connection& c) {
  return (c.phase == Connection::Phase::kHead && c.in.empty()) || c.phase == Connection::Phase::kLinger;
}

void HttpServer::Impl::close_idle_connections() {
  std::lock_guard lock(mutex_);
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (it->first->busy || !is_between_requests(*it->first)) {
      ++it;
    } else {
      it = connections_.erase(it);
    }
  }
}

// --- workers ----------------------------------------------------------------------------------

void HttpServer::Impl::work() {
  while (true) {
    Connection* connection = nullptr;
    {
      std::unique_lock lock(queue_mutex_);
      queue_ready_.wait(lock, [this] { return workers_exit_ || !queue_.empty(); });
      if (queue_.empty()) return;
      connection = queue_.front();
      queue_.pop_front();
    }
    Outcome outcome = Outcome::kClose;
    try {
      outcome = serve(*connection);
    } catch (const std::exception& e) {
      log_.error("connection failed", {{"what", e.what()}});
    }
    finish(connection, outcome);
  }
}

void HttpServer::Impl::finish(Connection* c, Outcome outcome) {
  std::lock_guard lock(mutex_);
  c->busy = false;
  if (outcome == Outcome::kClose || (stopping_ && is_between_requests(*c))) {
    connections_.erase(c);
    return;
  }
  if (c->in.empty() && c->in.capacity() > 4096) std::string().swap(c->in);  // idle connections stay small
  epoll_event event{};
  event.events = EPOLLIN | EPOLLONESHOT;
  event.data.ptr = c;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &event) != 0) connections_.erase(c);
}

HttpServer::Impl::Outcome HttpServer::Impl::serve(Connection& c) {
  if (c.timed_out) {
    c.timed_out = false;
    return on_deadline(c);
  }
  if (c.phase == Connection::Phase::kLinger) return linger(c);

  if (c.tls != nullptr && !c.handshake_done) {
    while (true) {
      ERR_clear_error();
      const int result = SSL_accept(c.tls);
      if (result == 1) break;
      const int error = SSL_get_error(c.tls, result);
      if (error == SSL_ERROR_WANT_READ) return Outcome::kPark;
      if (error != SSL_ERROR_WANT_WRITE || !wait_for(c.fd, POLLOUT, Clock::now() + options_.write_timeout)) {
        return Outcome::kClose;
      }
    }
    c.handshake_done = true;
  }

  while (true) {
    const ReadStatus status = read_available(c);
    switch (process(c)) {
      case Progress::kClose: return Outcome::kClose;
      case Progress::kLinger: return Outcome::kPark;
      case Progress::kNeedMore: break;
    }
    if (status == ReadStatus::kEof || status == ReadStatus::kError) return Outcome::kClose;
    if (status == ReadStatus::kWouldBlock) break;
    if (c.in.size() >= kMaxBuffered) {
      return refuse(c, 400, "Malformed request.") == Progress::kLinger ? Outcome::kPark : Outcome::kClose;
    }
  }

  // Waiting for bytes: which deadline applies depends on where we are.
  if (c.phase == Connection::Phase::kBody) {
    c.deadline = c.body_since + options_.body_timeout;
  } else if (c.in.empty() && c.answered_before) {
    c.deadline = c.head_since + options_.keep_alive_timeout;
  } else {
    c.deadline = c.head_since + options_.head_timeout;
  }
  return Outcome::kPark;
}

HttpServer::Impl::Outcome HttpServer::Impl::on_deadline(Connection& c) {
  if (c.phase == Connection::Phase::kLinger) return Outcome::kClose;
  // An idle keep-alive connection (or one that never sent a byte) just closes; a request
  // that started but did not arrive in time gets a 408 first.
  if (c.phase == Connection::Phase::kHead && c.in.empty()) return Outcome::kClose;
  const bool head = c.phase == Connection::Phase::kHead;
  refuse(c, 408, head ? "The request head did not arrive in time." : "The request body did not arrive in time.",
         head ? "-" : c.head.method, head ? "-" : c.head.target.substr(0, c.head.target.find('?')));
  return Outcome::kClose;
}

HttpServer::Impl::Outcome HttpServer::Impl::linger(Connection& c) {
  char discard[16 * 1024];
  while (true) {
    const ssize_t n = ::recv(c.fd, discard, sizeof discard, MSG_DONTWAIT);
    if (n > 0) {
      c.lingered += static_cast<std::size_t>(n);
      if (c.lingered > kMaxLingerBytes) return Outcome::kClose;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Outcome::kPark;
    if (n < 0 && errno == EINTR) continue;
    return Outcome::kClose;
  }
}

HttpServer::Impl::ReadStatus HttpServer::Impl::read_available(Connection& c) {
  char buffer[16 * 1024];
  while (c.in.size() < kMaxBuffered) {
    const std::size_t room = std::min(sizeof buffer, kMaxBuffered - c.in.size());
    if (c.tls != nullptr) {
      ERR_clear_error();
      const int n = SSL_read(c.tls, buffer, static_cast<int>(room));
      if (n > 0) {
        c.in.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      const int error = SSL_get_error(c.tls, n);
      if (error == SSL_ERROR_WANT_READ) return ReadStatus::kWouldBlock;
      if (error == SSL_ERROR_ZERO_RETURN) return ReadStatus::kEof;
      return ReadStatus::kError;
    }
    const ssize_t n = ::recv(c.fd, buffer, room, 0);
    if (n > 0) {
      c.in.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) return ReadStatus::kEof;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadStatus::kWouldBlock;
    if (errno == EINTR) continue;
    return ReadStatus::kError;
  }
  return ReadStatus::kFull;
}

HttpServer::Impl::Progress HttpServer::Impl::process(Connection& c) {
  while (true) {
    if (c.phase == Connection::Phase::kHead) {
      if (c.in.empty()) return Progress::kNeedMore;
      wire::HeadParse parsed = wire::parse_head(c.in, limits_);
      if (parsed.state == wire::HeadParse::State::kIncomplete) return Progress::kNeedMore;
      if (parsed.state == wire::HeadParse::State::kRejected) {
        return refuse(c, parsed.rejection.status, parsed.rejection.message);
      }
      c.in.erase(0, parsed.consumed);
      c.head = std::move(parsed.head);
      c.body.clear();
      c.chunked.reset();
      if (c.head.framing != wire::BodyFraming::kNone) {
        c.phase = Connection::Phase::kBody;
        c.body_since = Clock::now();
        if (c.head.framing == wire::BodyFraming::kChunked) c.chunked.emplace(limits_.max_body);
        if (c.head.expect_continue && c.in.empty() && !write_all(c, "HTTP/1.1 100 Continue\r\n\r\n")) {
          return Progress::kClose;
        }
      }
    }
    if (c.phase == Connection::Phase::kBody) {
      if (c.head.framing == wire::BodyFraming::kLength) {
        if (c.in.size() < c.head.content_length) return Progress::kNeedMore;
        c.body.assign(c.in, 0, c.head.content_length);
        c.in.erase(0, c.head.content_length);
      } else {
        std::size_t consumed = 0;
        const auto state = c.chunked->feed(c.in, consumed, c.body);
        c.in.erase(0, consumed);
        if (state == wire::ChunkedDecoder::State::kNeedMore) return Progress::kNeedMore;
        if (state == wire::ChunkedDecoder::State::kRejected) {
          return refuse(c, c.chunked->rejection().status, c.chunked->rejection().message, c.head.method,
                        c.head.target.substr(0, c.head.target.find('?')));
        }
      }
      c.phase = Connection::Phase::kHead;
    }
    if (!respond(c)) return Progress::kClose;
  }
}

// A framing error: the answer in the envelope, `Connection: close`, then linger without ever
// parsing another byte of this connection.
HttpServer::Impl::Progress HttpServer::Impl::refuse(Connection& c, int status, const std::string& message,
                                                   const std::string& method, const std::string& path) {
  const auto started = Clock::now();
  rejected_requests_.fetch_add(1, std::memory_order_relaxed);
  const std::string request_id = new_request_id();
  httplib::Response response;
  core::Error error = error_for_status(status);
  error.message = message;
  write_error(response, error, request_id);
  response.status = status;
  response.set_header(kRequestIdHeader, request_id);
  const bool written = write_all(c, serialize(response, false, false));
  log_request(method, path, status, started, request_id, c.remote_addr);
  if (!written) return Progress::kClose;
  if (c.tls != nullptr) SSL_shutdown(c.tls);
  ::shutdown(c.fd, SHUT_WR);
  c.in.clear();
  c.phase = Connection::Phase::kLinger;
  c.deadline = Clock::now() + kLingerTime;
  return Progress::kLinger;
}

// Dispatches the request just read and writes the answer. False when the connection ends.
bool HttpServer::Impl::respond(Connection& c) {
  const auto started = Clock::now();
  httplib::Request request;
  request.method = c.head.method;
  request.target = c.head.target;
  request.version = c.head.minor_version == 1 ? "HTTP/1.1" : "HTTP/1.0";
  const std::size_t question = request.target.find('?');
  const std::string raw_path = request.target.substr(0, question);
  request.path = percent_decode(raw_path).value_or(raw_path);
  if (question != std::string::npos) parse_query(std::string_view(request.target).substr(question + 1), request.params);
  for (auto& [name, value] : c.head.headers) request.headers.emplace(std::move(name), std::move(value));
  request.body = std::move(c.body);
  request.remote_addr = c.remote_addr;
  request.remote_port = c.remote_port;

  const std::string incoming_id = request.get_header_value(kRequestIdHeader);
  const std::string request_id = is_valid_request_id(incoming_id) ? incoming_id : new_request_id();
  httplib::Response response;
  router_.dispatch(request, response, request_id);
  response.set_header(kRequestIdHeader, request_id);

  const bool keep_alive = c.head.keep_alive && !stopping_;
  const bool written = write_all(c, serialize(response, keep_alive, request.method == "HEAD"));
  log_request(request.method, request.path, response.status, started, request_id, c.remote_addr);
  c.answered_before = true;
  c.head_since = Clock::now();
  c.body.clear();
  return written && keep_alive;
}

std::string HttpServer::Impl::serialize(const httplib::Response& response, bool keep_alive, bool head_only) const {
  std::string out;
  out.reserve(256 + response.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += reason_phrase(response.status);
  out += "\r\n";
  for (const auto& [name, value] : response.headers) {
    if (wire::iequals(name, "Content-Length") || wire::iequals(name, "Connection")) continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "Date: ";
  out += http_date();
  // A 304 has no content, and a Content-Length there would have to be the 200's (RFC 9110 8.6).
  const bool no_content = response.status == 304 || response.status == 204;
  if (!no_content) {
    out += "\r\nContent-Length: ";
    out += std::to_string(response.body.size());
  }
  out += keep_alive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
  if (!head_only && !no_content) out += response.body;
  return out;
}

bool HttpServer::Impl::wait_for(int fd, short events, Clock::time_point deadline) {
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(left));
    if (ready > 0) return (entry.revents & (events | POLLHUP | POLLERR)) != 0;
    if (ready < 0 && errno != EINTR) return false;
  }
}

bool HttpServer::Impl::write_all(Connection& c, std::string_view data) {
  const auto deadline = Clock::now() + options_.write_timeout;
  while (!data.empty()) {
    if (c.tls != nullptr) {
      ERR_clear_error();
      const int n = SSL_write(c.tls, data.data(), static_cast<int>(std::min<std::size_t>(data.size(), 1 << 30)));
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      const int error = SSL_get_error(c.tls, n);
      const short wanted = error == SSL_ERROR_WANT_WRITE ? POLLOUT : error == SSL_ERROR_WANT_READ ? POLLIN : 0;
      if (wanted == 0 || !wait_for(c.fd, wanted, deadline)) return false;
      continue;
    }
    const ssize_t n = ::send(c.fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(c.fd, POLLOUT, deadline)) continue;
    return false;
  }
  return true;
}

std::string HttpServer::Impl::new_request_id() {
  std::array<std::uint8_t, 12> bytes{};
  {
    std::lock_guard lock(random_mutex_);
    random_.fill(bytes);
  }
  return core::hex_encode(bytes);
}

void HttpServer::Impl::log_request(const std::string& method, const std::string& path, int status,
                                   Clock::time_point started, const std::string& request_id, const std::string& remote) {
  if (!options_.access_log) return;
  const double duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  // The path only: never the query string or headers, where credentials could travel.
  // Phone numbers in paths (/v1/users/{phone}) are masked: the log is not an identity store.
  log_.info("request", {{"method", method},
                        {"path", loggable_path(path)},
                        {"status", status},
                        {"duration_ms", std::round(duration_ms * 1000) / 1000},
                        {"request_id", request_id},
                        {"remote", remote}});
}

// --- the public face ----------------------------------------------------------------------------

HttpServer::HttpServer(const HttpOptions& options, const Router& router, Log& log, core::Random& random)
    : impl_(std::make_unique<Impl>(options, router, log, random)) {}

HttpServer::~HttpServer() = default;

int HttpServer::bind() { return impl_->bind(); }
void HttpServer::run() { impl_->run(); }
void HttpServer::stop() { impl_->stop(); }
std::string HttpServer::reload_tls() { return impl_->reload_tls(); }
HttpServerStats HttpServer::stats() const { return impl_->stats(); }

}  // namespace app::http
