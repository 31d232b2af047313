#include "controller/statefulset/stateful_set.h"

#include <algorithm>
#include <map>

#include "client/resources.h"
#include "controller/history/controller_history.h"
#include "controller/worker.h"

namespace kubes::controller {
namespace {

using client::kPersistentVolumeClaims;
using client::kPods;
using client::kStatefulSets;

constexpr char kRevisionLabel[] = "controller-revision-hash";

std::string KeyOf(const Json& obj) { return client::Informer::KeyOf(obj); }

std::string OwnerKey(const Json& pod) { return ControllerKey(pod, "apps/v1", "StatefulSet"); }

std::string RevisionOf(const Json& pod) { return LabelsOf(pod)[kRevisionLabel]; }

bool IsRunningAndReady(const Json& pod) {
  return pod.value("status", Json::object()).value("phase", "") == "Running" && IsPodReady(pod);
}

// The template a revision saved ({"spec":{"template":{…,"$patch":"replace"}}}).
Json TemplateOf(const Json& revision) {
  Json tmpl = revision.value("data", Json::object()).value("spec", Json::object()).value("template", Json::object());
  tmpl.erase("$patch");
  return tmpl;
}

// The claim a pod's volume from template `claim_template` binds to.
std::string ClaimName(const Json& claim_template, const std::string& pod_name) {
  return NameOf(claim_template) + "-" + pod_name;
}

}  // namespace

StatefulSetController::StatefulSetController(client::Client* c, client::Informer& statefulsets,
                                             client::Informer& pods, client::Informer& revisions, const Clock& clock)
    : client_(c),
      statefulsets_(statefulsets),
      pods_(pods),
      revisions_(revisions),
      clock_(clock),
      recorder_(c, "statefulset-controller", "", clock) {
  pods_.AddIndex(client::Informer::kControllerIndex);
  revisions_.AddIndex(client::Informer::kControllerIndex);
  auto enqueue = [this](const Json& set) { queue_.Add(KeyOf(set)); };
  statefulsets_.AddHandlers({.on_add = enqueue,
                             .on_update = [enqueue](const Json&, const Json& set) { enqueue(set); },
                             .on_delete = nullptr});
  auto enqueue_owner = [this](const Json& pod) {
    std::string owner = OwnerKey(pod);
    if (!owner.empty()) queue_.Add(owner);
  };
  pods_.AddHandlers({.on_add = enqueue_owner,
                     .on_update = [enqueue_owner](const Json&, const Json& p) { enqueue_owner(p); },
                     .on_delete = enqueue_owner});
}

void StatefulSetController::Run(const std::atomic<bool>& stop) {
  RunWorker(queue_, stop, std::chrono::milliseconds(200),
            [this](const std::string& key) { return SyncStatefulSet(key); });
}

int StatefulSetController::OrdinalOf(const std::string& set_name, const std::string& pod_name) {
  if (pod_name.size() <= set_name.size() + 1 || pod_name.compare(0, set_name.size(), set_name) != 0 ||
      pod_name[set_name.size()] != '-') {
    return -1;
  }
  std::string digits = pod_name.substr(set_name.size() + 1);
  if (digits.empty() || digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return -1;
  if (digits.size() > 1 && digits[0] == '0') return -1;
  return std::stoi(digits);
}

Json StatefulSetController::NewStatefulPod(const Json& set, const Json& tmpl, int ordinal,
                                           const std::string& revision) {
  Json pod = PodFromTemplate(tmpl, set);
  std::string name = NameOf(set) + "-" + std::to_string(ordinal);
  pod["metadata"].erase("generateName");
  pod["metadata"]["name"] = name;
  Json& labels = pod["metadata"]["labels"];
  labels[kRevisionLabel] = revision;
  labels["statefulset.kubernetes.io/pod-name"] = name;
  labels["apps.kubernetes.io/pod-index"] = std::to_string(ordinal);
  pod["spec"]["hostname"] = name;
  std::string service = set["spec"].value("serviceName", "");
  if (!service.empty()) pod["spec"]["subdomain"] = service;
  // Each claim template becomes a volume of the same name bound to this pod's claim.
  for (const auto& ct : set["spec"].value("volumeClaimTemplates", Json::array())) {
    Json volume = {{"name", NameOf(ct)}, {"persistentVolumeClaim", {{"claimName", ClaimName(ct, name)}}}};
    Json volumes = Json::array();
    for (const auto& v : pod["spec"].value("volumes", Json::array())) {
      if (v.value("name", "") != NameOf(ct)) volumes.push_back(v);
    }
    volumes.push_back(volume);
    pod["spec"]["volumes"] = volumes;
  }
  return pod;
}

Result<StatefulSetController::Revisions> StatefulSetController::SyncRevisions(const Json& set) {
  auto owned = history::OwnedRevisions(ControlledOrOrphans(revisions_, set), set);
  int32_t collisions = set.value("status", Json::object()).value("collisionCount", 0);
  int32_t collisions_before = collisions;
  auto update = history::EnsureRevision(client_, set, history::RevisionData(set), owned,
                                        set["spec"]["template"]["metadata"].value("labels", Json::object()),
                                        &collisions);
  if (collisions != collisions_before) {
    Json copy = set;
    copy["status"]["collisionCount"] = collisions;
    (void)client_->Update(kStatefulSets, NamespaceOf(set), copy, "status");
  }
  if (!update.ok()) return update.status();
  Revisions revs;
  revs.update = NameOf(*update);
  revs.update_template = set["spec"]["template"];
  revs.current = revs.update;
  revs.current_template = revs.update_template;
  std::string current = set.value("status", Json::object()).value("currentRevision", "");
  for (const Json& rev : owned) {
    if (NameOf(rev) == current) {
      revs.current = current;
      revs.current_template = TemplateOf(rev);
    }
  }
  // Keep the revisions pods still run, plus revisionHistoryLimit others.
  std::vector<std::string> in_use = {revs.current, revs.update};
  for (const auto& p : pods_.ByIndex(client::Informer::kControllerIndex, UidOf(set))) {
    if (OwnerKey(*p) == KeyOf(set)) in_use.push_back(RevisionOf(*p));
  }
  KUBES_RETURN_IF_ERROR(
      history::TruncateHistory(client_, owned, revs.update, in_use, set["spec"].value("revisionHistoryLimit", 10)));
  return revs;
}

Status StatefulSetController::EnsureClaims(const Json& set, const Json& pod) {
  const Json policy = set["spec"].value("persistentVolumeClaimRetentionPolicy", Json::object());
  bool owned_by_set = policy.value("whenDeleted", "Retain") == "Delete";
  for (const auto& ct : set["spec"].value("volumeClaimTemplates", Json::array())) {
    std::string name = ClaimName(ct, NameOf(pod));
    auto existing = client_->Get(kPersistentVolumeClaims, NamespaceOf(set), name);
    if (existing.ok()) continue;
    if (existing.status().code() != Code::kNotFound) return existing.status();
    const Json ct_meta = ct.value("metadata", Json::object());
    Json labels = ct_meta.value("labels", Json::object());
    const Json match = set["spec"].value("selector", Json::object()).value("matchLabels", Json::object());
    for (auto it = match.begin(); it != match.end(); ++it) labels[it.key()] = it.value();
    Json claim = {{"apiVersion", "v1"},
                  {"kind", "PersistentVolumeClaim"},
                  {"metadata", {{"name", name}, {"namespace", NamespaceOf(set)}, {"labels", labels}}},
                  {"spec", ct.value("spec", Json::object())}};
    if (ct_meta.contains("annotations")) claim["metadata"]["annotations"] = ct_meta["annotations"];
    if (owned_by_set) {
      Json ref = ControllerRef(set);
      ref["controller"] = false;
      claim["metadata"]["ownerReferences"] = Json::array({ref});
    }
    auto made = client_->Create(kPersistentVolumeClaims, NamespaceOf(set), claim);
    if (!made.ok() && made.status().code() != Code::kAlreadyExists) {
      recorder_.Event(set, "Warning", "FailedCreate",
                      "create Claim " + name + " for Pod " + NameOf(pod) + " in StatefulSet " + NameOf(set) +
                          " failed error: " + made.status().message());
      return made.status();
    }
    recorder_.Event(set, "Normal", "SuccessfulCreate",
                    "create Claim " + name + " Pod " + NameOf(pod) + " in StatefulSet " + NameOf(set) + " success");
  }
  return Status::OK();
}

Status StatefulSetController::CreatePod(const Json& set, const Json& pod) {
  KUBES_RETURN_IF_ERROR(EnsureClaims(set, pod));
  auto made = client_->Create(kPods, NamespaceOf(set), pod);
  if (!made.ok() && made.status().code() != Code::kAlreadyExists) {
    recorder_.Event(set, "Warning", "FailedCreate",
                    "create Pod " + NameOf(pod) + " in StatefulSet " + NameOf(set) +
                        " failed error: " + made.status().message());
    return made.status();
  }
  if (made.ok()) {
    recorder_.Event(set, "Normal", "SuccessfulCreate",
                    "create Pod " + NameOf(pod) + " in StatefulSet " + NameOf(set) + " successful");
  }
  return Status::OK();
}

Status StatefulSetController::DeletePod(const Json& set, const Json& pod) {
  Status s = client_->Delete(kPods, NamespaceOf(pod), NameOf(pod));
  if (s.code() == Code::kNotFound) return Status::OK();
  if (!s.ok()) {
    recorder_.Event(set, "Warning", "FailedDelete",
                    "delete Pod " + NameOf(pod) + " in StatefulSet " + NameOf(set) + " failed error: " + s.message());
    return s;
  }
  recorder_.Event(set, "Normal", "SuccessfulDelete",
                  "delete Pod " + NameOf(pod) + " in StatefulSet " + NameOf(set) + " successful");
  return Status::OK();
}

Status StatefulSetController::SyncStatefulSet(const std::string& key) {
  Json set;
  if (!statefulsets_.Get(key, &set)) return Status::OK();
  auto selector = labels::SelectorFromLabelSelector(set["spec"].value("selector", Json()));
  if (!selector.ok() || selector->Empty()) return Status::OK();
  auto claimed = ClaimObjects(client_, kPods, set, *selector, ControlledOrOrphans(pods_, set));
  if (!claimed.ok()) return claimed.status();
  auto revs = SyncRevisions(set);
  if (!revs.ok()) return revs.status();
  Status work = IsBeingDeleted(set) ? Status::OK() : Manage(key, set, *revs, *claimed);
  Status status = UpdateStatus(set, *revs, *claimed);
  if (!work.ok()) return work;
  return status;
}

Status StatefulSetController::Manage(const std::string& key, const Json& set, const Revisions& revs,
                                     const std::vector<Json>& claimed) {
  const Json spec = set["spec"];
  int replicas = spec.value("replicas", 1);
  int start = spec.value("ordinals", Json::object()).value("start", 0);
  bool monotonic = spec.value("podManagementPolicy", "OrderedReady") != "Parallel";
  const Json strategy = spec.value("updateStrategy", Json::object());
  bool rolling = strategy.value("type", "RollingUpdate") == "RollingUpdate";
  int partition = strategy.value("rollingUpdate", Json::object()).value("partition", 0);
  int min_ready = spec.value("minReadySeconds", 0);
  TimePoint now = clock_.Now();

  std::vector<std::optional<Json>> slots(replicas);
  std::map<int, Json> condemned;  // ordinal → pod, outside [start, start+replicas)
  for (const Json& p : claimed) {
    int ord = OrdinalOf(NameOf(set), NameOf(p));
    if (ord < 0) continue;
    if (ord >= start && ord < start + replicas) slots[ord - start] = p;
    else condemned[ord] = p;
  }
  std::optional<std::string> first_unhealthy;
  auto healthy = [&](const Json& p) { return IsRunningAndReady(p) && !IsBeingDeleted(p); };

  // Up: create what is missing, in order unless Parallel.
  for (int i = 0; i < replicas; ++i) {
    int ord = start + i;
    if (slots[i] && IsPodTerminal(*slots[i]) && !IsBeingDeleted(*slots[i])) {
      // A failed or finished pod is replaced (terminal pods go at once).
      KUBES_RETURN_IF_ERROR(DeletePod(set, *slots[i]));
      slots[i].reset();
    }
    if (!slots[i]) {
      bool old_template = rolling && ord < partition;
      Json pod = NewStatefulPod(set, old_template ? revs.current_template : revs.update_template, ord,
                                old_template ? revs.current : revs.update);
      KUBES_RETURN_IF_ERROR(CreatePod(set, pod));
      if (monotonic) return Status::OK();
      continue;
    }
    const Json& pod = *slots[i];
    if (!healthy(pod) && !first_unhealthy) first_unhealthy = NameOf(pod);
    if (IsBeingDeleted(pod)) {
      if (monotonic) return Status::OK();  // wait until it is gone, then recreate it
      continue;
    }
    if (!IsRunningAndReady(pod)) {
      if (monotonic) return Status::OK();
      continue;
    }
    if (min_ready > 0 && !IsPodAvailable(pod, min_ready, now)) {
      if (monotonic) {
        auto since = ReadySince(pod).value_or(now);
        queue_.AddAfter(key, std::chrono::duration_cast<std::chrono::milliseconds>(
                                 since + std::chrono::seconds(min_ready) - now) +
                                 std::chrono::milliseconds(100));
        return Status::OK();
      }
    }
  }

  // Down: the highest ordinal first; in order, only when everything else is healthy.
  for (auto it = condemned.rbegin(); it != condemned.rend(); ++it) {
    const Json& pod = it->second;
    if (!healthy(pod) && !first_unhealthy) first_unhealthy = NameOf(pod);
  }
  for (auto it = condemned.rbegin(); it != condemned.rend(); ++it) {
    const Json& pod = it->second;
    if (IsBeingDeleted(pod)) {
      if (monotonic) return Status::OK();
      continue;
    }
    if (monotonic && !IsRunningAndReady(pod) && first_unhealthy != NameOf(pod)) return Status::OK();
    // whenScaled: Delete hands the pod's claims to the pod, so they go with it.
    const Json policy = set["spec"].value("persistentVolumeClaimRetentionPolicy", Json::object());
    if (policy.value("whenScaled", "Retain") == "Delete") {
      for (const auto& ct : set["spec"].value("volumeClaimTemplates", Json::array())) {
        Json ref = ControllerRef(pod);
        ref["controller"] = false;
        Json patch = {{"metadata", {{"ownerReferences", Json::array({ref})}}}};
        auto r = client_->Patch(kPersistentVolumeClaims, NamespaceOf(set), ClaimName(ct, NameOf(pod)),
                                "application/merge-patch+json", patch);
        if (!r.ok() && r.status().code() != Code::kNotFound) return r.status();
      }
    }
    KUBES_RETURN_IF_ERROR(DeletePod(set, pod));
    if (monotonic) return Status::OK();
  }

  // Update: the highest ordinal of an old revision, one at a time, down to partition.
  if (!rolling) return Status::OK();
  for (int i = replicas - 1; i >= std::max(0, partition - start); --i) {
    if (!slots[i]) return Status::OK();
    const Json& pod = *slots[i];
    if (RevisionOf(pod) != revs.update && !IsBeingDeleted(pod)) return DeletePod(set, pod);
    if (!healthy(pod)) return Status::OK();
  }
  return Status::OK();
}

Status StatefulSetController::UpdateStatus(const Json& set, const Revisions& revs, const std::vector<Json>& pods) {
  int min_ready = set["spec"].value("minReadySeconds", 0);
  TimePoint now = clock_.Now();
  int32_t replicas = 0, ready = 0, available = 0, current = 0, updated = 0;
  for (const Json& p : pods) {
    if (StatefulSetController::OrdinalOf(NameOf(set), NameOf(p)) < 0 || IsPodTerminal(p)) continue;
    ++replicas;
    if (IsRunningAndReady(p)) {
      ++ready;
      if (IsPodAvailable(p, min_ready, now)) ++available;
    }
    if (RevisionOf(p) == revs.current) ++current;
    if (RevisionOf(p) == revs.update) ++updated;
  }
  Json old = set.value("status", Json::object());
  Json st = old;
  st["observedGeneration"] = set["metadata"].value("generation", 0);
  st["replicas"] = replicas;
  st["readyReplicas"] = ready;
  st["availableReplicas"] = available;
  st["currentReplicas"] = current;
  st["updatedReplicas"] = updated;
  st["currentRevision"] = revs.current;
  st["updateRevision"] = revs.update;
  // A finished rolling update makes the new revision the current one.
  const Json strategy = set["spec"].value("updateStrategy", Json::object());
  if (strategy.value("type", "RollingUpdate") == "RollingUpdate" && updated == replicas && ready == replicas &&
      replicas == set["spec"].value("replicas", 1)) {
    st["currentRevision"] = revs.update;
    st["currentReplicas"] = updated;
  }
  for (const char* f : {"readyReplicas", "availableReplicas", "currentReplicas", "updatedReplicas"}) {
    if (st[f] == 0) st.erase(f);
  }
  if (st == old) return Status::OK();
  Json copy = set;
  copy["status"] = st;
  auto r = client_->Update(kStatefulSets, NamespaceOf(set), copy, "status");
  if (r.status().code() == Code::kNotFound) return Status::OK();
  return r.status();
}

}  // namespace kubes::controller
