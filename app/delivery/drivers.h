// The SMS delivery drivers behind core::SmsDriver: `http` (a templated request to an SMS
// gateway) and `exec` (a program with argument templates, no shell). Each is called from the
// delivery worker thread only.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/delivery.h"

namespace app::delivery {

struct HttpDriverOptions {
  std::string method = "POST";          // GET or POST
  std::string url;                      // {phone} {message} {code} {app} are URL-encoded
  std::vector<std::string> headers;     // "Name: value", placeholders allowed (CR/LF removed)
  std::string body;                     // empty: no body
  std::string content_type = "application/x-www-form-urlencoded";  // or application/json
  std::chrono::seconds timeout{10};
};

struct ExecDriverOptions {
  std::string program;                  // absolute path; run directly, never through a shell
  std::vector<std::string> args;        // one argv entry each, placeholders expanded
  std::chrono::seconds timeout{30};
};

std::shared_ptr<core::SmsDriver> make_http_driver(HttpDriverOptions options);
std::shared_ptr<core::SmsDriver> make_exec_driver(ExecDriverOptions options);

}  // namespace app::delivery
