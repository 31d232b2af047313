// Worker — the periodic probing of one probe (liveness, readiness or startup) of one
// container of one pod (upstream: pkg/kubelet/prober/worker.go).
//
// DoProbe is one tick (upstream doProbe): it looks at the pod as the kubelet last saw
// it and decides whether to probe now —
//   - a terminal pod stops the worker;
//   - a new container ID resets the worker: its result starts at the probe type's
//     initial value (readiness Failure, liveness Success, startup Unknown);
//   - a container that is not running is Failure, and the worker stops if it will not
//     be restarted;
//   - a pod being deleted sets liveness and startup to Success and stops them;
//   - nothing before initialDelaySeconds from the container's start;
//   - liveness and readiness wait until the container has started (its startup probe
//     succeeded), the startup probe stops once it has;
// then probes, and counts consecutive equal results: the result manager learns of a
// Failure after failureThreshold of them, of a Success after successThreshold. After
// a liveness or startup Failure the worker holds (probes nothing) until the kubelet
// has restarted the container under a new ID.
//
// The Manager calls DoProbe every periodSeconds (prober_manager.h); the time is passed
// in, so tests drive a worker with a fake clock.
//
// Thread-safety: one DoProbe at a time per worker (the Manager's scheduling ensures it).
#pragma once

#include <chrono>
#include <string>

#include "kubelet/prober/prober.h"
#include "kubelet/prober/results.h"

namespace kubes::kubelet::prober {

class Worker {
 public:
  struct Deps {
    Prober* prober;
    ResultsManager* results;         // where this worker's results go
    const ResultsManager* startup;   // startup results: whether the container has started
  };
  Worker(std::string pod_uid, Json container, ProbeType type, Deps deps);

  // One tick; false when the worker should stop.
  bool DoProbe(const PodView* pod, TimePoint now);

  // DoProbe in two halves, for probes that run elsewhere (the Manager's probe loop):
  // whether to probe now, not now, or never again …
  enum class Tick { kWait, kProbe, kStop };
  Tick Prepare(const PodView* pod, TimePoint now);
  // … and the result of the probe Prepare asked for (thrown away when errored).
  void Record(ProbeResult result, bool errored);

  const Json& container() const { return container_; }
  const Json& spec() const { return container_[ProbeField(type_)]; }

  ProbeType type() const { return type_; }
  const std::string& container_name() const { return name_; }
  const std::string& container_id() const { return container_id_; }
  std::chrono::seconds period() const { return period_; }
  // Whether the worker has probed its current container yet.
  bool probed() const { return probed_; }

 private:
  std::string pod_uid_;
  Json container_;
  std::string name_;
  ProbeType type_;
  Deps deps_;
  ProbeResult initial_;
  std::chrono::seconds period_;
  int64_t initial_delay_, success_threshold_, failure_threshold_;

  std::string container_id_;
  ProbeResult last_result_ = ProbeResult::kUnknown;
  int result_run_ = 0;  // how many times in a row last_result_ came
  bool on_hold_ = false;
  bool probed_ = false;
};

// Whether a container counts as started: its startup probe succeeded, or it has none
// (upstream isContainerStarted; the caller checks that it is running).
bool IsStarted(const Json& container, const std::string& container_id, const ResultsManager& startup);

}  // namespace kubes::kubelet::prober
