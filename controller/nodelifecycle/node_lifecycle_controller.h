// NodeLifecycleController — notices nodes that stopped reporting and moves their pods
// away (upstream: pkg/controller/nodelifecycle, with the taint-eviction controller of
// pkg/controller/tainteviction).
//
// Every second it looks at each Node's last sign of life — its Lease's renewTime or
// its Ready condition's lastHeartbeatTime, whichever is newer. After the grace period
// (40 s, --node-monitor-grace-period) without one:
//   - every node condition becomes Unknown, reason NodeStatusUnknown, "Kubelet stopped
//     posting node status."; the node's pods get Ready=False;
//   - the node gets the taints node.kubernetes.io/unreachable:NoSchedule and :NoExecute
//     (not-ready instead of unreachable when the kubelet itself reports Ready=False).
// The taints go again once the node is Ready.
//
// Pods on a node with a NoExecute taint they do not tolerate are deleted at once; those
// that tolerate it for tolerationSeconds (300 s, added to every pod by the
// DefaultTolerationSeconds admission) are deleted when that time has passed since the
// taint was added. Before deleting, the pod gets the DisruptionTarget condition
// (reason DeletionByTaintManager) and a TaintManagerEviction event.
//
// Nodes, Leases and Pods come from the process's shared informers.
//
// Thread-safety: construct before the shared informers start; Run (blocks) on a thread
// of its own, stop via the flag; destroy after the informers have stopped.
#pragma once

#include <atomic>
#include <chrono>

#include "client/client.h"
#include "client/informer.h"
#include "client/record.h"
#include "client/shared_informers.h"
#include "util/time.h"

namespace kubes::controller {

class NodeLifecycleController {
 public:
  NodeLifecycleController(client::Client* c, client::SharedInformers* informers,
                          std::chrono::seconds grace_period = std::chrono::seconds(40),
                          const Clock& clock = RealClock::Get());
  void Run(const std::atomic<bool>& stop);

  // One pass over every node and the pods on tainted nodes.
  void MonitorNodes();

  // When a pod on a node with these taints must go: now (a NoExecute taint it does not
  // tolerate), later (tolerated for a while), or never (nullopt).
  static std::optional<TimePoint> EvictionTime(const nlohmann::json& pod, const nlohmann::json& taints);

 private:
  Status MonitorNode(const nlohmann::json& node);
  // Ready=False on the node's pods (upstream MarkPodsNotReady); conflicts re-read the pod.
  void MarkPodsNotReady(const std::string& node_name);
  void EvictPods(const std::string& node_name, const nlohmann::json& taints);

  client::Client* client_;
  std::chrono::seconds grace_;
  const Clock& clock_;
  client::Informer* nodes_;   // shared, like the two below
  client::Informer* leases_;  // every namespace's; node leases are in kube-node-lease
  client::Informer* pods_;
  client::EventRecorder recorder_;
};

}  // namespace kubes::controller
