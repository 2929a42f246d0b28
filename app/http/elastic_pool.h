// The HTTP worker pool. cpp-httplib keeps one worker per open keep-alive connection, so a
// fixed pool lets idle or slow clients starve everyone else. This pool keeps `min` threads
// warm and starts another whenever a connection arrives and no worker is free, up to `max`;
// a thread above `min` that stays idle for `idle_timeout` ends. Thread-safe.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace app::http {

class ElasticPool final : public httplib::TaskQueue {
 public:
  ElasticPool(std::size_t min, std::size_t max, std::chrono::seconds idle_timeout);
  ~ElasticPool() override;

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

 private:
  void start_thread();  // with mutex_ held
  void work();

  const std::size_t min_;
  const std::size_t max_;
  const std::chrono::seconds idle_timeout_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::condition_variable exited_;
  std::deque<std::function<void()>> jobs_;
  std::size_t live_ = 0;  // threads not yet exited
  std::size_t idle_ = 0;  // threads waiting for a job
  bool shutdown_ = false;
};

}  // namespace app::http
