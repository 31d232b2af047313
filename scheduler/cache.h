// Cache — the scheduler's picture of which pods run on which node (upstream:
// pkg/scheduler/backend/cache). The pod and node informers feed it; Snapshot() hands
// the scheduling loop a copy of every node with its pods.
//
// Assumed pods: when the scheduler has picked a node and is binding a pod, the pod is
// "assumed" there at once, so the very next decision already counts its requests and
// ports. The informer's update (spec.nodeName set) confirms it; a failed binding
// forgets it. Finished pods (Succeeded, Failed) count nowhere, as upstream's informer
// filters them out.
//
// Thread-safety: every method locks; informer threads write while the loop reads.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "scheduler/framework/types.h"

namespace kubes::scheduler {

class Cache {
 public:
  void AddOrUpdateNode(const Json& node);
  void RemoveNode(const std::string& name);

  // A pod as the informer reports it. Pods bound to a node (spec.nodeName) count there;
  // a pod that was assumed and now shows up bound is confirmed. The cache keeps the
  // object itself (the informer's, not a copy of its own); the other form copies.
  void AddOrUpdatePod(std::shared_ptr<const Json> pod);
  void AddOrUpdatePod(const Json& pod) { AddOrUpdatePod(std::make_shared<const Json>(pod)); }
  void RemovePod(const Json& pod);

  // The scheduler is binding `pod` to `node`.
  void AssumePod(const Json& pod, const std::string& node);
  // The binding failed.
  void ForgetPod(const std::string& uid);
  bool IsAssumed(const std::string& uid) const;

  // Every node that exists, with its pods (copies; pods are shared, immutable), by name.
  std::vector<NodeInfo> Snapshot() const;

 private:
  struct PodState {
    std::string node;
    bool assumed = false;
  };
  void RemovePodLocked(const std::string& uid);

  mutable std::mutex mu_;
  // name → node and its pods; an entry may have pods but no node yet (informers race).
  std::map<std::string, NodeInfo> nodes_;
  std::map<std::string, PodState> pods_;  // PodUID → where it counts
};

}  // namespace kubes::scheduler
