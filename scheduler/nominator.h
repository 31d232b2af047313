// Nominator — which pending pods have a node set aside for them by preemption
// (status.nominatedNodeName), so that every scheduling decision counts them on that
// node (upstream: pkg/scheduler/backend/queue nominator, the PodNominator).
//
// Two sources feed it: the pod informer (the API's status.nominatedNodeName) and the
// scheduler itself, which nominates a pod the moment it has preempted for it, before
// its status patch comes back through the informer. An update that still shows no
// nomination (an older write overtaken by ours) keeps the in-memory one, as upstream.
// A pod leaves when it is bound (or assumed), deleted, or nominated nowhere.
//
// Thread-safety: every method locks; informer threads write while the loop reads.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "scheduler/framework/plugins/defaultpreemption.h"

namespace kubes::scheduler {

class Nominator {
 public:
  // A pod as the informer reports it; old_pod is its previous version (null: added).
  void AddOrUpdate(const Json* old_pod, PodPtr pod);
  void Delete(const std::string& uid);
  // The scheduler nominated the pod to node ("": withdraws the nomination).
  void Nominate(PodPtr pod, const std::string& node);
  // The node the pod is nominated to, "" for none.
  std::string NominatedNode(const std::string& uid) const;
  // Every nominated pod by node (the pods are shared, immutable).
  NominatedPods Snapshot() const;

 private:
  struct Entry {
    std::string node;
    PodPtr pod;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> by_uid_;  // PodUID → nomination
};

}  // namespace kubes::scheduler
