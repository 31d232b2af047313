// ThreadPool — the few threads the blocking probes (exec, gRPC, HTTPS) and the
// lifecycle hooks run on (upstream runs a goroutine per probe worker; a thread each
// would cost kubes a stack and a wake-up per probe, so the prober's scheduler hands
// them to this pool; plain HTTP and TCP probes run on its own ProbeLoop instead).
//
// It keeps `min_threads` threads. When a task arrives and none is idle it starts
// another, up to `max_threads`, so a few probes waiting out their timeouts on hung
// containers (or hooks sleeping) do not hold up the rest; those extra threads end
// after a while without work.
//
// Thread-safety: Submit from any thread. The destructor waits for running tasks and
// drops queued ones; tasks that can wait long should watch stopping().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>

namespace kubes::kubelet::prober {

class ThreadPool {
 public:
  ThreadPool(std::string name, int min_threads, int max_threads,
             std::chrono::milliseconds idle_timeout = std::chrono::seconds(30));
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(std::function<void()> task);
  // Set when the pool is being destroyed: long tasks should give up.
  const std::atomic<bool>& stopping() const { return stopping_; }
  int threads() const;

 private:
  void Spawn();  // REQUIRES: mu_ held
  void Loop(std::list<std::thread>::iterator self);
  void JoinFinished();  // REQUIRES: mu_ held

  const std::string name_;
  const int min_threads_, max_threads_;
  const std::chrono::milliseconds idle_timeout_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::list<std::thread> threads_;
  std::list<std::thread> finished_;  // ended extra threads, joined later
  int idle_ = 0;
};

}  // namespace kubes::kubelet::prober
