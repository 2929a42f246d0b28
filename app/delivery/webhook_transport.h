// The webhook transport over cpp-httplib: resolves the host at delivery time, refuses
// forbidden addresses (SSRF guard) unless allowed, and connects to exactly the address it
// checked. Never follows redirects. Thread-safe (a client per call).
#pragma once

#include <chrono>
#include <memory>

#include "core/webhooks.h"

namespace app::delivery {

struct WebhookTransportOptions {
  bool allow_http = false;
  bool allow_private = false;
  std::chrono::seconds timeout{10};
};

std::unique_ptr<core::WebhookTransport> make_webhook_transport(WebhookTransportOptions options);

}  // namespace app::delivery
