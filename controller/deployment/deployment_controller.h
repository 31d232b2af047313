// DeploymentController — rolls a Deployment's pod template out through ReplicaSets
// (upstream: pkg/controller/deployment).
//
// A Deployment owns one ReplicaSet per pod template it has had. The one whose template
// equals the Deployment's (apart from the pod-template-hash label) is the "new" one;
// the rest are "old". SyncDeployment(key) looks at the whole state each time:
//
//   paused, or only spec.replicas changed  → Scale: resize the ReplicaSets in
//                                             proportion to their share (sync.cc)
//   strategy RollingUpdate                 → grow the new ReplicaSet while at most
//                                             replicas+maxSurge pods exist, shrink old
//                                             ones while at least replicas-maxUnavailable
//                                             are available (rolling.cc)
//   strategy Recreate                      → old ReplicaSets to 0, wait until their pods
//                                             are gone, then the new one to replicas
//
// then writes status (replicas, updated, ready, available, unavailable) and the
// Available and Progressing conditions; a rollout without progress for
// progressDeadlineSeconds is marked ProgressDeadlineExceeded. Revisions live in the
// deployment.kubernetes.io/revision annotation of each ReplicaSet, which is what
// `kubectl rollout history|undo` read; old ReplicaSets beyond revisionHistoryLimit are
// deleted.
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

class DeploymentController {
 public:
  // The informers (all namespaces) are run by the caller; Run does not start them.
  DeploymentController(client::Client* c, client::Informer& deployments, client::Informer& replicasets,
                       client::Informer& pods, const Clock& clock = RealClock::Get());
  void Run(const std::atomic<bool>& stop);

  // key: "namespace/name".
  Status SyncDeployment(const std::string& key);

 private:
  // The Deployment's ReplicaSets split into the new one (may be null) and the old ones.
  struct ReplicaSets {
    std::optional<Json> new_rs;
    std::vector<Json> old;
    std::vector<Json> All() const;
  };

  // ---- deployment_controller.cc ----
  void EnqueueForReplicaSet(const Json& rs);
  Result<std::vector<Json>> ClaimReplicaSets(const Json& d);
  // Pods of the Deployment's ReplicaSets, by ReplicaSet uid.
  std::map<std::string, std::vector<Json>> PodsByReplicaSet(const Json& d, const std::vector<Json>& rss);

  // ---- sync.cc: ReplicaSets, scaling, status ----
  // Finds the new ReplicaSet (creating it when create_new), brings revisions up to date.
  Result<ReplicaSets> GetAllReplicaSetsAndSyncRevision(Json& d, const std::vector<Json>& rss, bool create_new);
  Result<std::optional<Json>> GetNewReplicaSet(Json& d, const std::vector<Json>& rss, const std::vector<Json>& old,
                                               bool create_new);
  // Sets rs to new_scale (and its desired/max replicas annotations); records an event
  // when the size changes. Returns whether it changed, and the updated object in *rs.
  // Without an operation ("up"/"down") a ReplicaSet already of that size is left alone.
  Result<bool> ScaleReplicaSet(Json* rs, int32_t new_scale, const Json& d, const std::string& operation = "");
  Status Scale(const Json& d, ReplicaSets& rss);
  // The paused / scaling-only path.
  Status Sync(Json& d, const std::vector<Json>& claimed);
  Status CleanupDeployment(const Json& d, const std::vector<Json>& old);
  Json CalculateStatus(const Json& d, const ReplicaSets& rss);
  Status SyncDeploymentStatus(const Json& d, const ReplicaSets& rss);
  Status SyncRolloutStatus(const Json& d, const ReplicaSets& rss);
  // Writes status through the status subresource; *d becomes the stored object.
  Status UpdateStatus(Json* d, const Json& status);
  Status CheckPausedConditions(Json& d);
  bool IsScalingEvent(Json& d, const std::vector<Json>& claimed);

  // ---- rolling.cc ----
  Status RolloutRolling(Json& d, const std::vector<Json>& claimed);
  Status RolloutRecreate(Json& d, const std::vector<Json>& claimed,
                         const std::map<std::string, std::vector<Json>>& pods);
  Result<bool> ReconcileNewReplicaSet(const Json& d, ReplicaSets& rss);
  Result<bool> ReconcileOldReplicaSets(const Json& d, ReplicaSets& rss);

  client::Client* client_;
  client::Informer& deployments_;
  client::Informer& replicasets_;
  client::Informer& pods_;
  const Clock& clock_;
  client::WorkQueue queue_;
  client::EventRecorder recorder_;
};

}  // namespace kubes::controller
