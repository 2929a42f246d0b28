#include "core/delivery.h"

#include "storage/otp.h"

namespace core {

DeliveryWorker::DeliveryWorker(storage::Store& db, const Clock& clock, const ServerKey& key,
                               std::map<std::string, std::shared_ptr<SmsDriver>> drivers, DeliveryOptions options,
                               ComponentMonitor* monitor)
    : db_(db),
      clock_(clock),
      message_key_(key.derive("sms-msg")),
      drivers_(std::move(drivers)),
      options_(std::move(options)),
      monitor_(monitor) {}

DeliveryWorker::~DeliveryWorker() { stop(); }

void DeliveryWorker::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
}

void DeliveryWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wakeup_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DeliveryWorker::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wakeup_.notify_all();
}

void DeliveryWorker::loop() {
  try {
    serve();
  } catch (...) {
    // Not expected (every pass catches its own errors); the health report must show it.
    if (monitor_) monitor_->failed("sms", "died", "the SMS delivery worker stopped", Impact::kDegraded);
  }
}

void DeliveryWorker::serve() {
  while (true) {
    try {
      while (run_due() > 0) {
      }
    } catch (const std::exception& e) {
      if (monitor_) monitor_->failed("sms", "pass_failed", e.what());
    }
    std::unique_lock lock(mutex_);
    // Polls at least once a second: retries come due by the clock, which nobody signals.
    wakeup_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
  }
}

int DeliveryWorker::run_due() {
  const TimePoint claimed_at = clock_.now();
  const std::string now = format_timestamp(claimed_at);
  // A read first: most passes find nothing due and must not queue a write for that.
  if (!db_.read([&](storage::Connection& c) { return storage::sms_jobs::any_due(c, now); })) return 0;
  const auto jobs = db_.write([&](storage::Connection& c) {
    return storage::sms_jobs::claim_due(c, now, format_timestamp(claimed_at + options_.lease), options_.batch);
  });
  // Attempts start only while the lease still covers one (another worker may claim the rest
  // once it ends; they wait for that, or the next pass of this one).
  const TimePoint start_by = claimed_at + options_.lease / 2;
  for (auto job : jobs) {
    if (clock_.now() >= start_by) break;
    DeliveryOutcome outcome;
    const auto driver = drivers_.find(job.driver);
    const auto text = job.message_box ? unseal(*job.message_box, message_key_) : std::nullopt;
    const auto code = job.code_box ? unseal(*job.code_box, message_key_) : std::nullopt;
    if (driver == drivers_.end()) {
      outcome.error = "no driver '" + job.driver + "' is configured";
    } else if (!text || !code) {
      outcome.error = "the message is no longer available";
    } else {
      try {
        outcome = driver->second->deliver({job.request_id, job.phone, *text, *code, job.app_name});
      } catch (const std::exception& e) {
        outcome.error = e.what();
      }
    }
    ++job.attempts;
    const bool retry = !outcome.sent && job.attempts <= static_cast<int>(options_.retry_schedule.size()) &&
                       driver != drivers_.end() && text && code;
    if (outcome.sent) {
      job.status = "sent";
      job.last_error.reset();
    } else if (retry) {
      job.next_attempt_at = format_timestamp(clock_.now() + options_.retry_schedule[job.attempts - 1]);
      job.last_error = outcome.error;
    } else {
      job.status = "failed";
      job.last_error = outcome.error;
    }
    if (job.status != "queued") {
      job.message_box.reset();  // the code is not kept a moment longer than needed
      job.code_box.reset();
    }
    db_.write([&](storage::Connection& c) {
      storage::sms_jobs::update(c, job);
      if (job.status != "queued") storage::otp::set_delivery_status(c, job.request_id, job.status);
    });
    if (monitor_) {
      // The reason names the driver's problem, never the phone or the code.
      if (outcome.sent) {
        monitor_->recovered("sms");
      } else {
        monitor_->failed("sms", "delivery_failed", job.driver + " driver: " + outcome.error);
      }
    }
    if (observer_) {
      observer_(outcome.sent ? SmsAttemptOutcome::kSent : retry ? SmsAttemptOutcome::kRetry : SmsAttemptOutcome::kFailed);
    }
  }
  return static_cast<int>(jobs.size());
}

}  // namespace core
