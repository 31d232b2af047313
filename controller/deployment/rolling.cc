// The two rollout strategies (upstream: pkg/controller/deployment/rolling.go and
// recreate.go).
#include <algorithm>

#include "controller/deployment/deployment_controller.h"
#include "controller/deployment/deployment_util.h"

namespace kubes::controller {

using namespace deployment;  // NOLINT: the helpers of this controller

// RollingUpdate: first grow the new ReplicaSet as far as maxSurge allows; if nothing
// grew, shrink old ones as far as maxUnavailable allows. Each step is one sync; the
// pods' readiness (through the ReplicaSets' status) triggers the next.
Status DeploymentController::RolloutRolling(Json& d, const std::vector<Json>& claimed) {
  auto rss = GetAllReplicaSetsAndSyncRevision(d, claimed, true);
  if (!rss.ok()) return rss.status();
  auto scaled_up = ReconcileNewReplicaSet(d, *rss);
  if (!scaled_up.ok()) return scaled_up.status();
  if (*scaled_up) return SyncRolloutStatus(d, *rss);
  auto scaled_down = ReconcileOldReplicaSets(d, *rss);
  if (!scaled_down.ok()) return scaled_down.status();
  if (*scaled_down) return SyncRolloutStatus(d, *rss);
  if (DeploymentComplete(d, d.value("status", Json::object()))) KUBES_RETURN_IF_ERROR(CleanupDeployment(d, rss->old));
  return SyncRolloutStatus(d, *rss);
}

Result<bool> DeploymentController::ReconcileNewReplicaSet(const Json& d, ReplicaSets& rss) {
  if (!rss.new_rs) return false;
  Json& new_rs = *rss.new_rs;
  if (Replicas(new_rs) == Replicas(d)) return false;
  if (Replicas(new_rs) > Replicas(d)) return ScaleReplicaSet(&new_rs, Replicas(d), d);
  return ScaleReplicaSet(&new_rs, NewRSNewReplicas(d, rss.All(), new_rs), d);
}

// Shrinks old ReplicaSets: first the pods that are not available anyway (they only
// block the rollout), then available ones while enough stay available.
Result<bool> DeploymentController::ReconcileOldReplicaSets(const Json& d, ReplicaSets& rss) {
  std::vector<Json*> old;
  for (Json& rs : rss.old) {
    if (Replicas(rs) > 0) old.push_back(&rs);
  }
  int32_t old_pods = 0;
  for (Json* rs : old) old_pods += Replicas(*rs);
  if (old_pods == 0 || !rss.new_rs) return false;
  const Json& new_rs = *rss.new_rs;
  int32_t all_pods = SumSpecReplicas(rss.All());
  int32_t min_available = Replicas(d) - MaxUnavailable(d);
  int32_t new_unavailable = Replicas(new_rs) - StatusInt(new_rs, "availableReplicas");
  int32_t max_scaled_down = all_pods - min_available - new_unavailable;
  if (max_scaled_down <= 0) return false;

  std::stable_sort(old.begin(), old.end(), [](const Json* a, const Json* b) {
    return (*a)["metadata"].value("creationTimestamp", "") < (*b)["metadata"].value("creationTimestamp", "");
  });
  int32_t cleaned = 0;
  for (Json* rs : old) {
    if (cleaned >= max_scaled_down) break;
    int32_t unhealthy = Replicas(*rs) - StatusInt(*rs, "availableReplicas");
    if (Replicas(*rs) == 0 || unhealthy <= 0) continue;
    int32_t n = std::min(max_scaled_down - cleaned, unhealthy);
    auto s = ScaleReplicaSet(rs, Replicas(*rs) - n, d);
    if (!s.ok()) return s.status();
    cleaned += n;
  }

  int32_t available = SumStatus(rss.All(), "availableReplicas");
  int32_t scaled = 0;
  if (available > min_available) {
    int32_t total = available - min_available;
    for (Json* rs : old) {
      if (scaled >= total) break;
      if (Replicas(*rs) == 0) continue;
      int32_t n = std::min(Replicas(*rs), total - scaled);
      auto s = ScaleReplicaSet(rs, Replicas(*rs) - n, d);
      if (!s.ok()) return s.status();
      scaled += n;
    }
  }
  return cleaned + scaled > 0;
}

// Recreate: every old ReplicaSet to 0; once none of their pods runs any more, the new
// ReplicaSet (created only now) to spec.replicas.
Status DeploymentController::RolloutRecreate(Json& d, const std::vector<Json>& claimed,
                                             const std::map<std::string, std::vector<Json>>& pods) {
  auto rss = GetAllReplicaSetsAndSyncRevision(d, claimed, false);
  if (!rss.ok()) return rss.status();
  bool scaled_down = false;
  for (Json& old : rss->old) {
    if (Replicas(old) == 0) continue;
    auto s = ScaleReplicaSet(&old, 0, d);
    if (!s.ok()) return s.status();
    scaled_down = scaled_down || *s;
  }
  if (scaled_down) return SyncRolloutStatus(d, *rss);

  bool old_running = SumStatus(rss->old, "replicas") > 0;
  for (const auto& [rs_uid, list] : pods) {
    if (rss->new_rs && UidOf(*rss->new_rs) == rs_uid) continue;
    for (const Json& pod : list) {
      std::string phase = pod.value("status", Json::object()).value("phase", "");
      if (phase != "Failed" && phase != "Succeeded") old_running = true;
    }
  }
  if (old_running) return SyncRolloutStatus(d, *rss);

  if (!rss->new_rs) {
    auto created = GetAllReplicaSetsAndSyncRevision(d, claimed, true);
    if (!created.ok()) return created.status();
    *rss = std::move(*created);
  }
  if (Replicas(*rss->new_rs) != Replicas(d)) {
    KUBES_RETURN_IF_ERROR(ScaleReplicaSet(&*rss->new_rs, Replicas(d), d).status());
  }
  if (DeploymentComplete(d, d.value("status", Json::object()))) KUBES_RETURN_IF_ERROR(CleanupDeployment(d, rss->old));
  return SyncRolloutStatus(d, *rss);
}

}  // namespace kubes::controller
