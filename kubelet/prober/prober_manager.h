// Manager — the kubelet's prober: one Worker per (pod, container, probe type), their
// schedule, and the results the kubelet reads (upstream:
// pkg/kubelet/prober/prober_manager.go).
//
// Scheduling. Upstream gives each worker a goroutine and a ticker. Here one scheduler
// thread ("kubelet-prober") keeps a min-heap of the workers' next run times. A due
// plain-HTTP or TCP probe runs on that thread's ProbeLoop (non-blocking sockets on
// epoll, probe_loop.h); exec, gRPC and HTTPS probes go to a small ThreadPool
// ("kubelet-probe", 4 threads, growing while probes wait out timeouts). After a run the
// worker is due again periodSeconds after its previous due time (ticker-like: a run
// that overran does not pile up more runs).
// A worker's first run is at once, or — in the first period after the kubelet started
// (a restart adopting many pods) — after a random part of its period, so probes do
// not all fire together. 500 pods with a probe each cost one heap operation and one
// pooled run per probe per period.
//
// The kubelet tells the manager what it sees of a pod after each sync (UpdatePod, the
// stand-in for upstream's status manager) and asks it during the sync:
//   IsStarted  — the startup probe has succeeded (or there is none);
//   IsReady    — the readiness probe's last result is Success (or there is none);
//   Liveness/Startup failed — the container must be killed and restarted.
// A readiness probe that has not yet passed for a started container is run at once
// (upstream: the manual trigger in UpdatePodStatus), so a container becomes ready
// without waiting a period. Every change of a result calls on_update(pod UID), which
// the kubelet turns into a sync of that pod.
//
// Thread-safety: all public methods may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <thread>
#include <tuple>
#include <vector>

#include "kubelet/prober/probe_loop.h"
#include "kubelet/prober/prober.h"
#include "kubelet/prober/results.h"
#include "kubelet/prober/thread_pool.h"
#include "kubelet/prober/worker.h"

namespace kubes::kubelet::prober {

struct ManagerOptions {
  int threads = 4;       // probes run on this many threads…
  int max_threads = 64;  // …and up to this many while some wait on slow containers
  ProberOptions prober;
};

class Manager {
 public:
  Manager(ManagerOptions options, std::function<void(const std::string& pod_uid)> on_update,
          const Clock& clock = RealClock::Get());
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // The pod as the kubelet's sync just saw it. With add_workers, creates the workers
  // its containers' probes need (upstream AddPod); a pod being terminated passes
  // false, so stopped workers stay stopped.
  void UpdatePod(const std::string& uid, PodView view, bool add_workers);
  // Stops the pod's workers and forgets their results (upstream RemovePod).
  void RemovePod(const std::string& uid);

  bool IsStarted(const Json& container, const std::string& container_id) const;
  bool IsReady(const Json& container, const std::string& container_id) const;
  bool LivenessFailed(const std::string& container_id) const;
  bool StartupFailed(const std::string& container_id) const;

  // Runs fn on the probe pool (lifecycle hooks); fn should give up when cancel() is set.
  void RunAsync(std::function<void()> fn) { pool_.Submit(std::move(fn)); }
  const std::atomic<bool>* cancel() const { return &pool_.stopping(); }

  // How many workers exist (tests, benchmarks).
  size_t workers() const;

 private:
  using Key = std::tuple<std::string, std::string, ProbeType>;  // pod UID, container, type
  struct Entry {
    Key key;
    std::unique_ptr<Worker> worker;
    std::chrono::steady_clock::time_point due;
    uint64_t generation = 0;  // heap items of older generations are stale
    bool in_flight = false;
    bool rerun = false;       // triggered while running: run again at once
    bool stopped = false;
    // An httpGet probe's request, built once per pod IP (the spec does not change).
    std::optional<HTTPRequest> request;
    std::string request_ip;
  };
  struct Due {
    std::chrono::steady_clock::time_point at;
    uint64_t generation;
    std::shared_ptr<Entry> entry;
    bool operator>(const Due& o) const { return at > o.at; }
  };

  void SchedulerLoop();
  // One due run of a worker: decide (Worker::Prepare), probe on the loop or the pool,
  // then Complete with the handler's output, and Finish (schedule the next run).
  void Start(const std::shared_ptr<Entry>& entry);
  void Complete(const std::shared_ptr<Entry>& entry, const PodView& view, const ProbeOutput& out);
  void Finish(const std::shared_ptr<Entry>& entry, bool keep);
  void ScheduleLocked(const std::shared_ptr<Entry>& entry, std::chrono::steady_clock::time_point at);
  ResultsManager* ResultsFor(ProbeType t);

  const Clock& clock_;
  Prober prober_;
  ResultsManager liveness_, readiness_, startup_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();

  mutable std::mutex mu_;
  bool stop_ = false;
  std::map<Key, std::shared_ptr<Entry>> workers_;
  std::map<std::string, std::shared_ptr<const PodView>> pods_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> heap_;

  std::string user_agent_;  // kube-probe/1.32
  ProbeLoop loop_;          // the scheduler thread's; pool tasks only Wake it
  ThreadPool pool_;         // after the state the tasks use; destroyed (joined) before it
  std::thread scheduler_;   // last: starts when everything else exists
};

}  // namespace kubes::kubelet::prober
