// The controller's shape: informer handlers, the work loop, SyncDeployment's dispatch,
// and which ReplicaSets and pods belong to a Deployment.
#include "controller/deployment/deployment_controller.h"

#include "client/resources.h"
#include "controller/deployment/deployment_util.h"
#include "controller/worker.h"

namespace kubes::controller {
namespace {

using client::kDeployments;
using client::kReplicaSets;

std::string KeyOf(const Json& obj) { return client::Informer::KeyOf(obj); }

// "ns/name" of the apps/v1 object of kind `kind` controlling obj, or "".
std::string OwnerKey(const Json& obj, const char* kind) { return ControllerKey(obj, "apps/v1", kind); }

Result<labels::Selector> SelectorOf(const Json& obj) {
  return labels::SelectorFromLabelSelector(obj.value("spec", Json::object()).value("selector", Json()));
}

}  // namespace

std::vector<Json> DeploymentController::ReplicaSets::All() const {
  std::vector<Json> all = old;
  if (new_rs) all.push_back(*new_rs);
  return all;
}

DeploymentController::DeploymentController(client::Client* c, client::Informer& deployments,
                                           client::Informer& replicasets, client::Informer& pods, const Clock& clock)
    : client_(c),
      deployments_(deployments),
      replicasets_(replicasets),
      pods_(pods),
      clock_(clock),
      recorder_(c, "deployment-controller", "", clock) {
  deployments_.AddIndex(client::Informer::kNamespaceIndex);
  replicasets_.AddIndex(client::Informer::kControllerIndex);
  pods_.AddIndex(client::Informer::kControllerIndex);
  auto enqueue = [this](const Json& d) { queue_.Add(KeyOf(d)); };
  deployments_.AddHandlers({.on_add = enqueue,
                            .on_update = [enqueue](const Json&, const Json& d) { enqueue(d); },
                            .on_delete = enqueue});
  replicasets_.AddHandlers({.on_add = [this](const Json& rs) { EnqueueForReplicaSet(rs); },
                            .on_update =
                                [this](const Json& old_rs, const Json& rs) {
                                  std::string old_owner = OwnerKey(old_rs, "Deployment");
                                  if (!old_owner.empty() && old_owner != OwnerKey(rs, "Deployment")) {
                                    queue_.Add(old_owner);
                                  }
                                  EnqueueForReplicaSet(rs);
                                },
                            .on_delete = [this](const Json& rs) {
                              std::string owner = OwnerKey(rs, "Deployment");
                              if (!owner.empty()) queue_.Add(owner);
                            }});
  // Recreate waits for the old pods to be gone: their deletion is worth a look.
  pods_.AddHandlers({.on_add = nullptr, .on_update = nullptr, .on_delete = [this](const Json& pod) {
                       std::string rs_key = OwnerKey(pod, "ReplicaSet");
                       Json rs;
                       if (rs_key.empty() || !replicasets_.Get(rs_key, &rs)) return;
                       std::string d_key = OwnerKey(rs, "Deployment");
                       Json d;
                       if (d_key.empty() || !deployments_.Get(d_key, &d)) return;
                       if (d["spec"]["strategy"].value("type", "") == "Recreate") queue_.Add(d_key);
                     }});
}

// The owner of a ReplicaSet, or for an orphan every Deployment that may adopt it.
void DeploymentController::EnqueueForReplicaSet(const Json& rs) {
  std::string owner = OwnerKey(rs, "Deployment");
  if (!owner.empty()) {
    queue_.Add(owner);
    return;
  }
  if (IsBeingDeleted(rs)) return;
  labels::Labels rs_labels = LabelsOf(rs);
  for (const auto& ptr : deployments_.ByIndex(client::Informer::kNamespaceIndex, NamespaceOf(rs))) {
    const Json& d = *ptr;
    auto sel = SelectorOf(d);
    if (sel.ok() && !sel->Empty() && sel->Matches(rs_labels)) queue_.Add(KeyOf(d));
  }
}

void DeploymentController::Run(const std::atomic<bool>& stop) {
  RunWorker(queue_, stop, std::chrono::milliseconds(200), [this](const std::string& key) { return SyncDeployment(key); });
}

Result<std::vector<Json>> DeploymentController::ClaimReplicaSets(const Json& d) {
  auto selector = SelectorOf(d);
  if (!selector.ok()) return selector.status();
  return ClaimObjects(client_, kReplicaSets, d, *selector, ControlledOrOrphans(replicasets_, d));
}

std::map<std::string, std::vector<Json>> DeploymentController::PodsByReplicaSet(const Json& d,
                                                                               const std::vector<Json>& rss) {
  std::map<std::string, std::vector<Json>> out;
  for (const auto& rs : rss) {
    auto& pods = out[UidOf(rs)];
    for (const auto& pod : pods_.ByIndex(client::Informer::kControllerIndex, UidOf(rs))) pods.push_back(*pod);
  }
  return out;
}

Status DeploymentController::SyncDeployment(const std::string& key) {
  Json d;
  if (!deployments_.Get(key, &d)) return Status::OK();
  auto selector = SelectorOf(d);
  if (!selector.ok() || selector->Empty()) {
    recorder_.Event(d, "Warning", "SelectingAll",
                    "This deployment is selecting all pods. A non-empty selector is required.");
    return Status::OK();
  }
  auto claimed = ClaimReplicaSets(d);
  if (!claimed.ok()) return claimed.status();
  auto pods = PodsByReplicaSet(d, *claimed);

  if (IsBeingDeleted(d)) {
    auto rss = GetAllReplicaSetsAndSyncRevision(d, *claimed, false);
    if (!rss.ok()) return rss.status();
    return SyncDeploymentStatus(d, *rss);
  }
  KUBES_RETURN_IF_ERROR(CheckPausedConditions(d));
  if (d["spec"].value("paused", false) || IsScalingEvent(d, *claimed)) return Sync(d, *claimed);
  if (d["spec"]["strategy"].value("type", "RollingUpdate") == "Recreate") return RolloutRecreate(d, *claimed, pods);
  return RolloutRolling(d, *claimed);
}

}  // namespace kubes::controller
