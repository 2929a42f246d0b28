// Delivery of OTP messages to phones: the driver interface and the worker that drains the
// durable SMS queue (sms_jobs) off the request threads, with retries. Drivers are called from
// the worker thread only. DeliveryWorker is thread-safe (wake/stop from any thread).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/monitor.h"
#include "storage/store.h"

namespace core {

struct SmsMessage {
  std::string request_id;
  std::string phone;     // E.164
  std::string text;      // the whole message
  std::string code;
  std::string app_name;
};

struct DeliveryOutcome {
  bool sent = false;
  std::string error;  // why not, for the job's last_error (never contains the code)
};

class SmsDriver {
 public:
  virtual ~SmsDriver() = default;
  virtual DeliveryOutcome deliver(const SmsMessage& message) = 0;
};

struct DeliveryOptions {
  // Wait before each retry; after the last one the job is failed.
  std::vector<std::chrono::seconds> retry_schedule{std::chrono::seconds(5), std::chrono::seconds(30),
                                                   std::chrono::seconds(120)};
  int batch = 32;
  // A claimed job is this worker's alone for this long (then any node's worker may retry it).
  std::chrono::seconds lease{300};
};

// What one delivery attempt of an SMS job came to (for metrics).
enum class SmsAttemptOutcome { kSent, kRetry, kFailed };

class DeliveryWorker {
 public:
  DeliveryWorker(storage::Store& db, const Clock& clock, const ServerKey& key,
                 std::map<std::string, std::shared_ptr<SmsDriver>> drivers, DeliveryOptions options,
                 ComponentMonitor* monitor = nullptr);
  ~DeliveryWorker();

  void start();
  void stop();
  // Something was queued: look now rather than at the next poll.
  void wake();
  // Attempts every job that is due now; returns how many were attempted.
  int run_due();
  // Told the outcome of every attempt, on the worker thread. Set it before start().
  void set_attempt_observer(std::function<void(SmsAttemptOutcome)> observer) { observer_ = std::move(observer); }

 private:
  void loop();
  void serve();

  storage::Store& db_;
  const Clock& clock_;
  ServerKey::Bytes message_key_;
  std::map<std::string, std::shared_ptr<SmsDriver>> drivers_;
  DeliveryOptions options_;
  ComponentMonitor* monitor_;
  std::function<void(SmsAttemptOutcome)> observer_;
  std::mutex mutex_;
  std::condition_variable wakeup_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace core
