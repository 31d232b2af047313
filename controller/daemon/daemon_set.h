// DaemonSetController — one pod of a DaemonSet on every node that should run it
// (upstream: pkg/controller/daemon).
//
// SyncDaemonSet(key), level-triggered like every controller:
//  1. the current template's ControllerRevision (controller/history/): its hash goes on
//     every new pod as the `controller-revision-hash` label;
//  2. per node: should it run the pod? (the template's nodeSelector and required node
//     affinity, and its taints tolerated — daemon pods tolerate not-ready, unreachable,
//     pressure and unschedulable taints automatically, so cordoned and failing nodes
//     keep their daemons); should a running pod stay? (only NoExecute taints matter);
//  3. create the missing pods — pinned to their node with required node affinity on
//     `metadata.name`, and placed by the scheduler like any pod — and delete pods on
//     nodes that should not run them, extra pods, and failed pods;
//  4. RollingUpdate: replace old-revision pods while at most maxUnavailable nodes lack
//     an available pod (maxSurge > 0: start the new pod first, delete the old one when
//     the new one is available); OnDelete: only pods somebody deletes are replaced;
//  5. status: desiredNumberScheduled, currentNumberScheduled, numberMisscheduled,
//     numberReady, updatedNumberScheduled, numberAvailable, numberUnavailable.
//
// Thread-safety: Run owns its threads; construct, Run (blocks), stop via the flag.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/informer.h"
#include "client/record.h"
#include "client/workqueue.h"
#include "controller/controller_utils.h"
#include "util/time.h"

namespace kubes::controller {

class DaemonSetController {
 public:
  DaemonSetController(client::Client* c, client::Informer& daemonsets, client::Informer& pods, client::Informer& nodes,
                      client::Informer& revisions, const Clock& clock = RealClock::Get());
  void Run(const std::atomic<bool>& stop);

  // key: "namespace/name".
  Status SyncDaemonSet(const std::string& key);

  // Whether a daemon pod belongs on node (should_run) and whether one already there may
  // stay (should_continue): upstream NodeShouldRunDaemonPod.
  struct Placement {
    bool should_run = false;
    bool should_continue = false;
  };
  static Placement NodeShouldRunDaemonPod(const Json& ds, const Json& node);
  // The template's pod for node: daemon tolerations added, pinned to the node.
  static Json NewDaemonPod(const Json& ds, const std::string& node, const std::string& hash);

 private:
  void EnqueueAll();
  Status Manage(const Json& ds, const std::string& key, const std::string& hash,
                std::map<std::string, std::vector<Json>>& by_node, const std::vector<Json>& nodes);
  Status UpdateStatus(const Json& ds, const std::string& hash, const std::map<std::string, std::vector<Json>>& by_node,
                      const std::vector<Json>& nodes);

  client::Client* client_;
  client::Informer& daemonsets_;
  client::Informer& pods_;
  client::Informer& nodes_;
  client::Informer& revisions_;
  const Clock& clock_;
  client::WorkQueue queue_;
  Expectations expectations_;
  client::EventRecorder recorder_;
  PodControl pod_control_;
};

}  // namespace kubes::controller
