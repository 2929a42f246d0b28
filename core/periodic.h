// Runs a task on its own thread every `interval` (and once at start) until stopped; used for
// the retention purge and the expiry sweep. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace core {

class PeriodicTask {
 public:
  PeriodicTask(std::chrono::milliseconds interval, std::function<void()> task)
      : interval_(interval), task_(std::move(task)) {}
  ~PeriodicTask() { stop(); }

  void start() {
    thread_ = std::thread([this] {
      std::unique_lock lock(mutex_);
      while (!stopping_) {
        lock.unlock();
        task_();
        lock.lock();
        wakeup_.wait_for(lock, interval_, [this] { return stopping_; });
      }
    });
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wakeup_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::chrono::milliseconds interval_;
  std::function<void()> task_;
  std::mutex mutex_;
  std::condition_variable wakeup_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace core
