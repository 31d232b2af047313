// WorkQueue — the rate-limited queue every controller's worker drains (upstream:
// client-go util/workqueue). A key is queued at most once at a time; a key being
// processed is not handed to a second worker, and if it is added meanwhile it is
// processed again afterwards. AddRateLimited backs off exponentially per key
// (5 ms doubling to 1000 s, as upstream's default controller rate limiter), Forget
// resets that. A key waits for at most one delayed add: adding it again with a later
// time changes nothing, with an earlier time moves it (upstream's delaying queue), so a
// sync that requeues itself does not pile up timers.
//
// Thread-safety: all methods are safe from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace kubes::client {

class WorkQueue {
 public:
  void Add(const std::string& key);
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  void AddRateLimited(const std::string& key);
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key);
  // Blocks until a key is ready or the queue shuts down (nullopt).
  std::optional<std::string> Get();
  void Done(const std::string& key);
  void ShutDown();
  size_t Len();

 private:
  using Clock = std::chrono::steady_clock;
  void AddLocked(const std::string& key);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_, processing_;
  std::multimap<Clock::time_point, std::string> waiting_;
  std::map<std::string, Clock::time_point> waiting_at_;  // key → its entry in waiting_
  std::map<std::string, int> failures_;
  bool shutting_down_ = false;
};

}  // namespace kubes::client
