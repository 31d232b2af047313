// ResultsManager — the latest result of one kind of probe (liveness, readiness or
// startup) for each container, by container ID (upstream:
// pkg/kubelet/prober/results/results_manager.go).
//
// Workers write here once a result passes its threshold; the kubelet reads here when
// it computes a pod's status and decides about restarts. A change calls on_change
// with the pod's UID, which the kubelet turns into a SyncPod of that pod (upstream
// sends it on the manager's Updates channel).
//
// Thread-safety: all methods may be called from any thread; on_change runs outside
// the lock, on the thread that made the change.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "kubelet/prober/probe.h"

namespace kubes::kubelet::prober {

class ResultsManager {
 public:
  using OnChange = std::function<void(const std::string& pod_uid)>;
  explicit ResultsManager(OnChange on_change = nullptr) : on_change_(std::move(on_change)) {}

  // Records a result (kSuccess, kFailure or kUnknown).
  void Set(const std::string& container_id, ProbeResult result, const std::string& pod_uid) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = results_.find(container_id);
      if (it != results_.end() && it->second == result) return;
      results_[container_id] = result;
    }
    if (on_change_) on_change_(pod_uid);
  }
  // The result for a container; false when there is none.
  bool Get(const std::string& container_id, ProbeResult* out) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = results_.find(container_id);
    if (it == results_.end()) return false;
    *out = it->second;
    return true;
  }
  void Remove(const std::string& container_id) {
    std::lock_guard<std::mutex> lock(mu_);
    results_.erase(container_id);
  }

 private:
  OnChange on_change_;
  mutable std::mutex mu_;
  std::map<std::string, ProbeResult> results_;
};

}  // namespace kubes::kubelet::prober
