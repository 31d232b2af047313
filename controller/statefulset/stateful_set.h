// StatefulSetController — pods with stable names, ordinals and storage (upstream:
// pkg/controller/statefulset).
//
// A StatefulSet "web" of 3 replicas owns pods web-0, web-1, web-2 (hostname = pod name,
// subdomain = spec.serviceName) and, per volumeClaimTemplate "www", the claims
// www-web-0, www-web-1, … that outlive the pods. SyncStatefulSet(key):
//  1. revisions: the current template is a ControllerRevision (controller/history/);
//     status.updateRevision names it, status.currentRevision the one the pods had
//     when the last update completed;
//  2. OrderedReady (default): walk ordinals upwards; create the first missing pod and
//     stop; stop at the first pod that is not Running and Ready (or not yet available
//     for minReadySeconds). Parallel: create every missing pod at once;
//  3. scale down: delete the highest ordinal first, one at a time (OrderedReady), only
//     when every other pod is healthy;
//  4. RollingUpdate: once all pods are healthy, delete the highest-ordinal pod of an old
//     revision (down to spec.updateStrategy.rollingUpdate.partition); it comes back
//     from the new template. OnDelete: pods get the new template only when deleted;
//  5. claims: created before their pod; persistentVolumeClaimRetentionPolicy Delete
//     hands them to the StatefulSet (whenDeleted) or to the pod being scaled away
//     (whenScaled) as owner, for the garbage collector;
//  6. status: replicas, readyReplicas, currentReplicas, updatedReplicas,
//     availableReplicas, currentRevision, updateRevision, observedGeneration.
//
// Thread-safety: Run owns its threads; construct, Run (blocks), stop via the flag.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/informer.h"
#include "client/record.h"
#include "client/workqueue.h"
#include "controller/controller_utils.h"
#include "util/time.h"

namespace kubes::controller {

class StatefulSetController {
 public:
  StatefulSetController(client::Client* c, client::Informer& statefulsets, client::Informer& pods,
                        client::Informer& revisions, const Clock& clock = RealClock::Get());
  void Run(const std::atomic<bool>& stop);

  // key: "namespace/name".
  Status SyncStatefulSet(const std::string& key);

  // "web-3" → 3; -1 when the name is not "<set>-<number>".
  static int OrdinalOf(const std::string& set_name, const std::string& pod_name);
  // The pod for one ordinal from a StatefulSet (whose template is the revision's),
  // with its identity (name, hostname, subdomain, labels) and its claims' volumes.
  static Json NewStatefulPod(const Json& set, const Json& tmpl, int ordinal, const std::string& revision);

 private:
  struct Revisions {
    std::string current, update;  // ControllerRevision names
    Json current_template, update_template;
  };
  Result<Revisions> SyncRevisions(const Json& set);
  Status CreatePod(const Json& set, const Json& pod);
  Status DeletePod(const Json& set, const Json& pod);
  Status EnsureClaims(const Json& set, const Json& pod);
  // Steps 2-4 of SyncStatefulSet: create, scale down, update.
  Status Manage(const std::string& key, const Json& set, const Revisions& revs, const std::vector<Json>& claimed);
  Status UpdateStatus(const Json& set, const Revisions& revs, const std::vector<Json>& pods);

  client::Client* client_;
  client::Informer& statefulsets_;
  client::Informer& pods_;
  client::Informer& revisions_;
  const Clock& clock_;
  client::WorkQueue queue_;
  client::EventRecorder recorder_;
};

}  // namespace kubes::controller
