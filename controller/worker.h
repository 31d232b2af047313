// RunWorker — the loop every controller runs (upstream: the `worker` and
// `processNextWorkItem` functions each controller has): take a key, sync it, and
// decide when to see it again.
//
//   sync OK          → Forget (reset its backoff)
//   Code::kConflict  → look again after `recheck` (waiting for something to finish)
//   any other error  → AddRateLimited (exponential backoff)
//
// Returns when stop is set (the queue is shut down, waking the worker).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "client/workqueue.h"
#include "util/status.h"

namespace kubes::controller {

inline void RunWorker(client::WorkQueue& queue, const std::atomic<bool>& stop, std::chrono::milliseconds recheck,
                      const std::function<Status(const std::string&)>& sync) {
  std::thread stopper([&] {
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    queue.ShutDown();
  });
  while (auto key = queue.Get()) {
    Status s = sync(*key);
    if (s.ok()) queue.Forget(*key);
    else if (s.code() == Code::kConflict) queue.AddAfter(*key, recheck);
    else queue.AddRateLimited(*key);
    queue.Done(*key);
  }
  stopper.join();
}

}  // namespace kubes::controller
