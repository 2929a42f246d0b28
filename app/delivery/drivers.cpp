#include "app/delivery/drivers.h"

#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <cstring>
#include <thread>

#include "core/templates.h"

extern char** environ;

namespace app::delivery {

namespace {

std::map<std::string, std::string> placeholders(const core::SmsMessage& message) {
  return {{"phone", message.phone}, {"message", message.text}, {"code", message.code}, {"app", message.app_name}};
}

class HttpDriver final : public core::SmsDriver {
 public:
  explicit HttpDriver(HttpDriverOptions options) : options_(std::move(options)) {}

  core::DeliveryOutcome deliver(const core::SmsMessage& message) override {
    const auto values = placeholders(message);
    const std::string url = core::expand_template(options_.url, values, core::Escape::kUrl);
    // scheme://host[:port] and the rest.
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return {false, "the gateway URL has no scheme"};
    const auto path_start = url.find('/', scheme_end + 3);
    const std::string origin = url.substr(0, path_start);
    const std::string target = path_start == std::string::npos ? "/" : url.substr(path_start);

    httplib::Client client(origin);
    client.set_connection_timeout(options_.timeout);
    client.set_read_timeout(options_.timeout);
    client.set_write_timeout(options_.timeout);
    client.set_follow_location(false);
    httplib::Headers headers;
    for (const auto& header : options_.headers) {
      const auto colon = header.find(':');
      if (colon == std::string::npos) continue;
      std::string value = core::expand_template(header.substr(colon + 1), values, core::Escape::kHeader);
      value.erase(0, value.find_first_not_of(' '));
      headers.emplace(header.substr(0, colon), value);
    }
    const bool json = options_.content_type.find("json") != std::string::npos;
    const std::string body =
        core::expand_template(options_.body, values, json ? core::Escape::kJsonString : core::Escape::kForm);
    httplib::Result result = options_.method == "GET" ? client.Get(target, headers)
                                                      : client.Post(target, headers, body, options_.content_type);
    if (!result) return {false, "gateway request failed: " + httplib::to_string(result.error())};
    if (result->status < 200 || result->status >= 300) {
      return {false, "gateway answered HTTP " + std::to_string(result->status)};
    }
    return {true, ""};
  }

 private:
  HttpDriverOptions options_;
};

class ExecDriver final : public core::SmsDriver {
 public:
  explicit ExecDriver(ExecDriverOptions options) : options_(std::move(options)) {}

  core::DeliveryOutcome deliver(const core::SmsMessage& message) override {
    const auto values = placeholders(message);
    std::vector<std::string> argv_storage = {options_.program};
    for (const auto& arg : options_.args) argv_storage.push_back(core::expand_template(arg, values, core::Escape::kNone));
    std::vector<char*> argv;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, options_.program.c_str(), &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0) return {false, "cannot run " + options_.program + ": " + std::strerror(rc)};

    const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return {false, options_.program + " timed out after " + std::to_string(options_.timeout.count()) + " s"};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {true, ""};
    return {false, options_.program + " exited with status " +
                       std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status))};
  }

 private:
  ExecDriverOptions options_;
};

}  // namespace

std::shared_ptr<core::SmsDriver> make_http_driver(HttpDriverOptions options) {
  return std::make_shared<HttpDriver>(std::move(options));
}

std::shared_ptr<core::SmsDriver> make_exec_driver(ExecDriverOptions options) {
  return std::make_shared<ExecDriver>(std::move(options));
}

}  // namespace app::delivery
