#include "controller/replicaset/replica_set.h"

#include <algorithm>

#include "client/resources.h"
#include "controller/worker.h"

namespace kubes::controller {
namespace {

using client::kPods;
using client::kReplicaSets;

std::string KeyOf(const Json& obj) { return client::Informer::KeyOf(obj); }

// The "ns/name" of the ReplicaSet controlling obj, or "".
std::string OwnerKey(const Json& obj) { return ControllerKey(obj, "apps/v1", "ReplicaSet"); }

int SpecReplicas(const Json& rs) {
  const Json& spec = rs.value("spec", Json::object());
  auto r = spec.find("replicas");
  return r != spec.end() && r->is_number_integer() ? r->get<int>() : 1;
}

}  // namespace

ReplicaSetController::ReplicaSetController(client::Client* c, client::Informer& pods, client::Informer& replicasets,
                                           const Clock& clock)
    : client_(c),
      pods_(pods),
      replicasets_(replicasets),
      clock_(clock),
      expectations_(clock),
      recorder_(c, "replicaset-controller", "", clock),
      pod_control_(c, &recorder_, &expectations_) {
  pods_.AddIndex(client::Informer::kControllerIndex);
  replicasets_.AddIndex(client::Informer::kNamespaceIndex);
  auto enqueue = [this](const Json& rs) { queue_.Add(KeyOf(rs)); };
  replicasets_.AddHandlers({.on_add = enqueue,
                            .on_update = [enqueue](const Json&, const Json& rs) { enqueue(rs); },
                            .on_delete = [this](const Json& rs) { expectations_.Delete(KeyOf(rs)); }});
  pods_.AddHandlers({.on_add = [this](const Json& p) { OnPod(p, PodEvent::kAdded); },
                     .on_update =
                         [this](const Json& old_pod, const Json& p) {
                           // A pod that changed owner or labels may concern its old owner too.
                           std::string old_owner = OwnerKey(old_pod);
                           if (!old_owner.empty() && old_owner != OwnerKey(p)) queue_.Add(old_owner);
                           if (LabelsOf(old_pod) != LabelsOf(p) && OwnerKey(p).empty()) EnqueueOwnersOrMatches(p);
                           OnPod(p, PodEvent::kUpdated);
                         },
                     .on_delete = [this](const Json& p) { OnPod(p, PodEvent::kDeleted); }});
}

void ReplicaSetController::OnPod(const Json& pod, PodEvent event) {
  std::string owner = OwnerKey(pod);
  if (owner.empty()) {
    if (event != PodEvent::kDeleted && !IsBeingDeleted(pod)) EnqueueOwnersOrMatches(pod);
    return;
  }
  if (event == PodEvent::kDeleted || IsBeingDeleted(pod)) expectations_.DeletionObserved(owner, UidOf(pod));
  else if (event == PodEvent::kAdded) expectations_.CreationObserved(owner);
  queue_.Add(owner);
}

// An orphan pod: every ReplicaSet of its namespace whose selector matches may adopt it.
void ReplicaSetController::EnqueueOwnersOrMatches(const Json& pod) {
  std::string ns = NamespaceOf(pod);
  labels::Labels pod_labels = LabelsOf(pod);
  for (const auto& ptr : replicasets_.ByIndex(client::Informer::kNamespaceIndex, ns)) {
    const Json& rs = *ptr;
    auto sel = labels::SelectorFromLabelSelector(rs.value("spec", Json::object()).value("selector", Json()));
    if (sel.ok() && !sel->Empty() && sel->Matches(pod_labels)) queue_.Add(KeyOf(rs));
  }
}

void ReplicaSetController::Run(const std::atomic<bool>& stop) {
  RunWorker(queue_, stop, std::chrono::milliseconds(200), [this](const std::string& key) { return SyncReplicaSet(key); });
}

Status ReplicaSetController::SyncReplicaSet(const std::string& key) {
  Json rs;
  if (!replicasets_.Get(key, &rs)) {
    expectations_.Delete(key);
    return Status::OK();
  }
  auto selector = labels::SelectorFromLabelSelector(rs["spec"].value("selector", Json()));
  if (!selector.ok()) {
    recorder_.Event(rs, "Warning", "InvalidSelector", selector.status().message());
    return Status::OK();
  }
  if (selector->Empty()) return Status::OK();  // validation forbids it; never take every pod

  std::vector<Json> candidates = ControlledOrOrphans(pods_, rs);
  std::erase_if(candidates, [](const Json& p) { return !IsPodActive(p); });
  auto claimed = ClaimObjects(client_, kPods, rs, *selector, candidates);
  if (!claimed.ok()) return claimed.status();

  Status manage_error = Status::OK();
  if (expectations_.Satisfied(key) && !IsBeingDeleted(rs)) manage_error = ManageReplicas(key, rs, *claimed);
  Status s = UpdateStatus(rs, *claimed, manage_error);
  if (!s.ok()) return s;
  return manage_error;
}

Status ReplicaSetController::ManageReplicas(const std::string& key, const Json& rs, std::vector<Json>& active) {
  int diff = static_cast<int>(active.size()) - SpecReplicas(rs);
  if (diff < 0) {
    Json pod = PodFromTemplate(rs["spec"].value("template", Json::object()), rs);
    return pod_control_.Apply(key, rs, std::vector<Json>(std::min(-diff, kBurstReplicas), pod), {});
  }
  if (diff > 0) {
    SortPodsForDeletion(active, clock_.Now());
    active.resize(std::min(diff, kBurstReplicas));
    return pod_control_.Apply(key, rs, {}, active);
  }
  return Status::OK();
}

Status ReplicaSetController::UpdateStatus(const Json& rs, const std::vector<Json>& pods, const Status& manage_error) {
  const Json& spec = rs["spec"];
  int min_ready = spec.value("minReadySeconds", 0);
  labels::Labels template_labels = LabelsOf(spec.value("template", Json::object()));
  TimePoint now = clock_.Now();
  int fully_labeled = 0, ready = 0, available = 0;
  std::optional<TimePoint> next_available;  // when a ready pod becomes available
  for (const Json& p : pods) {
    labels::Labels l = LabelsOf(p);
    bool all = std::all_of(template_labels.begin(), template_labels.end(), [&](const auto& kv) {
      auto it = l.find(kv.first);
      return it != l.end() && it->second == kv.second;
    });
    if (all) ++fully_labeled;
    auto since = ReadySince(p);
    if (!since) continue;
    ++ready;
    if (IsPodAvailable(p, min_ready, now)) ++available;
    else {
      TimePoint at = *since + std::chrono::seconds(min_ready);
      if (!next_available || at < *next_available) next_available = at;
    }
  }
  Json status = rs.value("status", Json::object());
  Json want = status;
  want["replicas"] = static_cast<int>(pods.size());
  want["fullyLabeledReplicas"] = fully_labeled;
  want["readyReplicas"] = ready;
  want["availableReplicas"] = available;
  want["observedGeneration"] = rs["metadata"].value("generation", 0);
  if (!manage_error.ok() && manage_error.code() != Code::kConflict) {
    bool creating = static_cast<int>(pods.size()) < SpecReplicas(rs);
    SetCondition(want, "ReplicaFailure", "True", creating ? "FailedCreate" : "FailedDelete", manage_error.message(),
                 now, false);
  } else if (manage_error.ok()) {
    RemoveCondition(want, "ReplicaFailure");
  }
  // kubectl prints 0 for absent counters; keep zeros out like upstream's omitempty.
  for (const char* f : {"fullyLabeledReplicas", "readyReplicas", "availableReplicas"}) {
    if (want[f] == 0) want.erase(f);
  }
  if (next_available) {
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*next_available - now) +
                std::chrono::milliseconds(100);
    queue_.AddAfter(KeyOf(rs), std::max(wait, std::chrono::milliseconds(100)));
  }
  if (want == status) return Status::OK();
  Json updated = rs;
  updated["status"] = want;
  auto r = client_->Update(kReplicaSets, NamespaceOf(rs), updated, "status");
  if (r.status().code() == Code::kNotFound) return Status::OK();
  return r.status();
}

}  // namespace kubes::controller
