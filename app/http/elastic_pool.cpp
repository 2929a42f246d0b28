#include "app/http/elastic_pool.h"

namespace app::http {

ElasticPool::ElasticPool(std::size_t min, std::size_t max, std::chrono::seconds idle_timeout)
    : min_(min), max_(std::max(min, max)), idle_timeout_(idle_timeout) {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < min_; ++i) start_thread();
}

ElasticPool::~ElasticPool() { shutdown(); }

void ElasticPool::start_thread() {
  ++live_;
  // Detached: a thread that ends when idle must not leave a handle to join; shutdown() waits
  // for the live count instead.
  std::thread([this] { work(); }).detach();
}

void ElasticPool::enqueue(std::function<void()> fn) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(fn));
    // Every queued job needs a free worker now; grow rather than let it wait behind idle
    // keep-alive connections.
    if (jobs_.size() > idle_ && live_ < max_) start_thread();
  }
  ready_.notify_one();
}

void ElasticPool::shutdown() {
  std::unique_lock lock(mutex_);
  shutdown_ = true;
  ready_.notify_all();
  exited_.wait(lock, [this] { return live_ == 0; });
}

void ElasticPool::work() {
  std::unique_lock lock(mutex_);
  while (true) {
    ++idle_;
    const bool woke = ready_.wait_for(lock, idle_timeout_, [this] { return shutdown_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) {
      if (shutdown_ || (!woke && live_ > min_)) break;
      continue;
    }
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
  --live_;
  exited_.notify_all();
}

}  // namespace app::http
