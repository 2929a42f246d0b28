#include "app/delivery/webhook_transport.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netdb.h>

#include <memory>
#include <unordered_map>

#include "core/net_guard.h"

namespace app::delivery {

namespace {

// Every address the host resolves to, as numeric strings.
std::vector<std::string> resolve(const std::string& host, std::string* error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* results = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &results);
  if (rc != 0) {
    *error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return {};
  }
  std::vector<std::string> addresses;
  for (addrinfo* a = results; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw = a->ai_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
                                              : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if (inet_ntop(a->ai_family, raw, text, sizeof text)) addresses.emplace_back(text);
  }
  freeaddrinfo(results);
  return addresses;
}

class HttplibWebhookTransport final : public core::WebhookTransport {
 public:
  explicit HttplibWebhookTransport(WebhookTransportOptions options) : options_(options) {}

  core::WebhookHttpResponse post(const core::WebhookHttpRequest& request) override {
    const auto started = std::chrono::steady_clock::now();
    core::WebhookHttpResponse response;
    auto finish = [&](std::string error) {
      response.error = std::move(error);
      response.duration_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
      return response;
    };

    std::string problem;
    const auto url = core::parse_url(request.url, &problem);
    if (!url) return finish("invalid URL: " + problem);
    if (url->scheme == "http" && !options_.allow_http) return finish("refused: http is not allowed (--webhook-allow-http)");

    // Resolve now, check every address, and connect to the one checked: a DNS answer that
    // changes between the check and the connection (rebinding) cannot slip through.
    std::vector<std::string> addresses = resolve(url->host, &problem);
    if (addresses.empty()) return finish(problem.empty() ? "cannot resolve " + url->host : problem);
    if (!options_.allow_private) {
      for (const auto& address : addresses) {
        const std::string reason = core::forbidden_address_reason(address);
        if (!reason.empty()) {
          return finish("refused: " + url->host + " resolves to a " + reason + " address (" + address +
                        "); see --webhook-allow-private");
        }
      }
    }

    const std::string origin = url->scheme + "://" +
                               (url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host) + ":" +
                               std::to_string(url->port);
    httplib::Headers headers;
    std::string content_type = "application/json";
    for (const auto& [name, value] : request.headers) {
      if (name == "content-type") {
        content_type = value;
      } else {
        headers.emplace(name, value);
      }
    }
    // Connections are kept open and reused per (origin, checked address) and delivery thread;
    // a kept connection the receiver has closed meanwhile fails at once and is retried once on a
    // new one.
    const std::string key = origin + "|" + addresses.front();
    bool reused = true;
    httplib::Client& client = kept_client(key, origin, url->host, addresses.front(), reused);
    const auto sent_at = std::chrono::steady_clock::now();
    auto result = client.Post(url->target, headers, request.body, content_type);
    // Only a fast failure means a dead kept connection; a slow one may have reached the receiver.
    if (!result && reused && std::chrono::steady_clock::now() - sent_at < std::chrono::seconds(1)) {
      forget_client(key);
      httplib::Client& fresh = kept_client(key, origin, url->host, addresses.front(), reused);
      result = fresh.Post(url->target, headers, request.body, content_type);
    }
    if (!result) forget_client(key);
    if (!result) return finish("no answer: " + httplib::to_string(result.error()));
    response.status_code = result->status;
    if (result->status >= 200 && result->status < 300) {
      response.verdict = core::WebhookHttpResponse::Verdict::kDelivered;
      return finish("");
    }
    if (result->status == 410) response.verdict = core::WebhookHttpResponse::Verdict::kGone;
    if (result->status >= 300 && result->status < 400) {
      return finish("redirect not followed (HTTP " + std::to_string(result->status) + ")");
    }
    return finish("HTTP " + std::to_string(result->status));
  }

 private:
  // This thread's open connections (httplib::Client is not for concurrent use), at most
  // kKeptPerThread receivers at a time.
  static constexpr std::size_t kKeptPerThread = 32;
  using KeptClients = std::unordered_map<std::string, std::unique_ptr<httplib::Client>>;
  static KeptClients& kept() {
    thread_local KeptClients clients;
    return clients;
  }

  httplib::Client& kept_client(const std::string& key, const std::string& origin, const std::string& host,
                               const std::string& address, bool& reused) {
    auto& clients = kept();
    if (auto found = clients.find(key); found != clients.end()) {
      reused = true;
      return *found->second;
    }
    reused = false;
    if (clients.size() >= kKeptPerThread) clients.clear();
    auto client = std::make_unique<httplib::Client>(origin);
    client->set_hostname_addr_map({{host, address}});
    client->set_connection_timeout(options_.timeout);
    client->set_read_timeout(options_.timeout);
    client->set_write_timeout(options_.timeout);
    client->set_follow_location(false);
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);  // headers and body go out as separate writes: no Nagle wait on a kept connection
    client->enable_server_certificate_verification(true);
    return *clients.emplace(key, std::move(client)).first->second;
  }

  static void forget_client(const std::string& key) { kept().erase(key); }

  WebhookTransportOptions options_;
};

}  // namespace

std::unique_ptr<core::WebhookTransport> make_webhook_transport(WebhookTransportOptions options) {
  return std::make_unique<HttplibWebhookTransport>(options);
}

}  // namespace app::delivery
