#include "kubelet/prober/thread_pool.h"

#include <pthread.h>

namespace kubes::kubelet::prober {

ThreadPool::ThreadPool(std::string name, int min_threads, int max_threads, std::chrono::milliseconds idle_timeout)
    : name_(std::move(name)),
      min_threads_(std::max(1, min_threads)),
      max_threads_(std::max(min_threads_, max_threads)),
      idle_timeout_(idle_timeout) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < min_threads_; ++i) Spawn();
}

ThreadPool::~ThreadPool() {
  std::list<std::thread> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    tasks_.clear();
    all.splice(all.end(), threads_);
    all.splice(all.end(), finished_);
  }
  cv_.notify_all();
  for (auto& t : all) t.join();
}

int ThreadPool::threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(threads_.size());
}

void ThreadPool::Submit(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  JoinFinished();
  tasks_.push_back(std::move(task));
  if (idle_ < static_cast<int>(tasks_.size()) && static_cast<int>(threads_.size()) < max_threads_) Spawn();
  cv_.notify_one();
}

void ThreadPool::Spawn() {
  threads_.emplace_back();
  auto self = std::prev(threads_.end());
  *self = std::thread([this, self] { Loop(self); });
  pthread_setname_np(self->native_handle(), name_.substr(0, 15).c_str());
}

void ThreadPool::JoinFinished() {
  for (auto& t : finished_) t.join();
  finished_.clear();
}

void ThreadPool::Loop(std::list<std::thread>::iterator self) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (tasks_.empty()) {
      ++idle_;
      bool woke = cv_.wait_for(lock, idle_timeout_, [this] { return stopping_ || !tasks_.empty(); });
      --idle_;
      // An extra thread that found nothing to do for a while ends.
      if (!woke && static_cast<int>(threads_.size()) > min_threads_) {
        finished_.splice(finished_.end(), threads_, self);
        return;
      }
      continue;
    }
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace kubes::kubelet::prober
