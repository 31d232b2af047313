#include "controller/daemon/daemon_set.h"

#include <algorithm>
#include <cmath>

#include "client/resources.h"
#include "controller/history/controller_history.h"
#include "controller/worker.h"
#include "scheduler/framework/plugins/plugins.h"

namespace kubes::controller {
namespace {

using client::kDaemonSets;
using client::kPods;

constexpr char kHashLabel[] = "controller-revision-hash";

std::string KeyOf(const Json& obj) { return client::Informer::KeyOf(obj); }

std::string OwnerKey(const Json& pod) { return ControllerKey(pod, "apps/v1", "DaemonSet"); }

// The node a daemon pod is for: spec.nodeName, or before scheduling the node its
// required affinity names.
std::string TargetNode(const Json& pod) {
  const Json spec = pod.value("spec", Json::object());
  std::string node = spec.value("nodeName", "");
  if (!node.empty()) return node;
  const Json terms = spec.value("affinity", Json::object())
                         .value("nodeAffinity", Json::object())
                         .value("requiredDuringSchedulingIgnoredDuringExecution", Json::object())
                         .value("nodeSelectorTerms", Json::array());
  for (const auto& term : terms) {
    for (const auto& f : term.value("matchFields", Json::array())) {
      if (f.value("key", "") == "metadata.name" && f.value("operator", "") == "In" && f.contains("values") &&
          f["values"].size() == 1) {
        return f["values"][0].get<std::string>();
      }
    }
  }
  return "";
}

// The tolerations every daemon pod gets (upstream AddOrUpdateDaemonPodTolerations), so
// that node problems and cordons do not take a node's daemons away.
void AddDaemonTolerations(Json& spec) {
  std::vector<std::pair<std::string, std::string>> wanted = {
      {"node.kubernetes.io/not-ready", "NoExecute"},       {"node.kubernetes.io/unreachable", "NoExecute"},
      {"node.kubernetes.io/disk-pressure", "NoSchedule"},  {"node.kubernetes.io/memory-pressure", "NoSchedule"},
      {"node.kubernetes.io/pid-pressure", "NoSchedule"},   {"node.kubernetes.io/unschedulable", "NoSchedule"}};
  if (spec.value("hostNetwork", false)) wanted.push_back({"node.kubernetes.io/network-unavailable", "NoSchedule"});
  if (!spec.contains("tolerations") || !spec["tolerations"].is_array()) spec["tolerations"] = Json::array();
  for (const auto& [key, effect] : wanted) {
    bool present = std::any_of(spec["tolerations"].begin(), spec["tolerations"].end(), [&](const Json& t) {
      return t.value("key", "") == key && t.value("effect", "") == effect;
    });
    if (!present) spec["tolerations"].push_back({{"key", key}, {"operator", "Exists"}, {"effect", effect}});
  }
}

// The first taint of the node (with one of the effects) the tolerations do not cover.
bool HasUntoleratedTaint(const Json& node, const Json& tolerations, bool no_execute_only) {
  for (const auto& taint : node.value("spec", Json::object()).value("taints", Json::array())) {
    std::string effect = taint.value("effect", "");
    if (effect != "NoExecute" && (no_execute_only || effect != "NoSchedule")) continue;
    if (!scheduler::TolerationsTolerateTaint(tolerations, taint)) return true;
  }
  return false;
}

int32_t ScaledUp(const Json& v, int32_t total) {
  if (v.is_number_integer()) return v.get<int32_t>();
  std::string s = v.is_string() ? v.get<std::string>() : "";
  if (s.empty() || s.back() != '%') return 0;
  return static_cast<int32_t>(std::ceil(std::atoi(s.c_str()) * total / 100.0));
}

// Oldest first (upstream podByCreationTimestampAndPhase, without the phase).
void SortOldestFirst(std::vector<Json>& pods) {
  std::stable_sort(pods.begin(), pods.end(), [](const Json& a, const Json& b) {
    return a["metadata"].value("creationTimestamp", "") < b["metadata"].value("creationTimestamp", "");
  });
}

}  // namespace

DaemonSetController::DaemonSetController(client::Client* c, client::Informer& daemonsets, client::Informer& pods,
                                         client::Informer& nodes, client::Informer& revisions, const Clock& clock)
    : client_(c),
      daemonsets_(daemonsets),
      pods_(pods),
      nodes_(nodes),
      revisions_(revisions),
      clock_(clock),
      expectations_(clock),
      recorder_(c, "daemonset-controller", "", clock),
      pod_control_(c, &recorder_, &expectations_) {
  pods_.AddIndex(client::Informer::kControllerIndex);
  revisions_.AddIndex(client::Informer::kControllerIndex);
  auto enqueue = [this](const Json& ds) { queue_.Add(KeyOf(ds)); };
  daemonsets_.AddHandlers({.on_add = enqueue,
                           .on_update = [enqueue](const Json&, const Json& ds) { enqueue(ds); },
                           .on_delete = [this](const Json& ds) { expectations_.Delete(KeyOf(ds)); }});
  pods_.AddHandlers({.on_add =
                         [this](const Json& p) {
                           std::string owner = OwnerKey(p);
                           if (owner.empty()) return;
                           expectations_.CreationObserved(owner);
                           queue_.Add(owner);
                         },
                     .on_update =
                         [this](const Json&, const Json& p) {
                           std::string owner = OwnerKey(p);
                           if (owner.empty()) return;
                           if (IsBeingDeleted(p)) expectations_.DeletionObserved(owner, UidOf(p));
                           queue_.Add(owner);
                         },
                     .on_delete =
                         [this](const Json& p) {
                           std::string owner = OwnerKey(p);
                           if (owner.empty()) return;
                           expectations_.DeletionObserved(owner, UidOf(p));
                           queue_.Add(owner);
                         }});
  // A node that joins, leaves or changes labels or taints may change where daemons run.
  nodes_.AddHandlers({.on_add = [this](const Json&) { EnqueueAll(); },
                      .on_update =
                          [this](const Json& old_node, const Json& node) {
                            if (old_node.value("metadata", Json::object()).value("labels", Json::object()) !=
                                    node.value("metadata", Json::object()).value("labels", Json::object()) ||
                                old_node.value("spec", Json::object()) != node.value("spec", Json::object())) {
                              EnqueueAll();
                            }
                          },
                      .on_delete = [this](const Json&) { EnqueueAll(); }});
}

void DaemonSetController::EnqueueAll() {
  for (const auto& ds : daemonsets_.Snapshot()) queue_.Add(KeyOf(*ds));
}

void DaemonSetController::Run(const std::atomic<bool>& stop) {
  RunWorker(queue_, stop, std::chrono::milliseconds(200), [this](const std::string& key) { return SyncDaemonSet(key); });
}

DaemonSetController::Placement DaemonSetController::NodeShouldRunDaemonPod(const Json& ds, const Json& node) {
  Json pod = {{"metadata", ds["spec"]["template"].value("metadata", Json::object())},
              {"spec", ds["spec"]["template"].value("spec", Json::object())}};
  AddDaemonTolerations(pod["spec"]);
  std::string pinned = pod["spec"].value("nodeName", "");
  if (!pinned.empty() && pinned != NameOf(node)) return {};
  if (!scheduler::RequiredNodeAffinityMatches(pod, node)) return {};
  const Json& tolerations = pod["spec"]["tolerations"];
  if (HasUntoleratedTaint(node, tolerations, false)) return {false, !HasUntoleratedTaint(node, tolerations, true)};
  return {true, true};
}

Json DaemonSetController::NewDaemonPod(const Json& ds, const std::string& node, const std::string& hash) {
  Json pod = PodFromTemplate(ds["spec"]["template"], ds);
  pod["metadata"]["labels"][kHashLabel] = hash;
  pod["metadata"]["labels"]["pod-template-generation"] = std::to_string(ds["metadata"].value("generation", 1));
  AddDaemonTolerations(pod["spec"]);
  // Pinned to the node by affinity; the scheduler still checks that it fits.
  pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
      {"nodeSelectorTerms", {{{"matchFields", {{{"key", "metadata.name"}, {"operator", "In"}, {"values", {node}}}}}}}}};
  return pod;
}

Status DaemonSetController::SyncDaemonSet(const std::string& key) {
  Json ds;
  if (!daemonsets_.Get(key, &ds)) {
    expectations_.Delete(key);
    return Status::OK();
  }
  auto selector = labels::SelectorFromLabelSelector(ds["spec"].value("selector", Json()));
  if (!selector.ok() || selector->Empty()) return Status::OK();
  auto claimed = ClaimObjects(client_, kPods, ds, *selector, ControlledOrOrphans(pods_, ds));
  if (!claimed.ok()) return claimed.status();
  std::map<std::string, std::vector<Json>> by_node;
  std::vector<std::string> hashes_in_use;
  for (Json& p : *claimed) {
    if (IsPodTerminal(p) && IsBeingDeleted(p)) continue;
    hashes_in_use.push_back(LabelsOf(p)[kHashLabel]);
    by_node[TargetNode(p)].push_back(std::move(p));
  }
  std::vector<Json> nodes = nodes_.List();

  // The current template's revision.
  int32_t collisions = ds.value("status", Json::object()).value("collisionCount", 0);
  int32_t collisions_before = collisions;
  auto owned = history::OwnedRevisions(ControlledOrOrphans(revisions_, ds), ds);
  auto current = history::EnsureRevision(client_, ds, history::RevisionData(ds), owned,
                                         ds["spec"]["template"]["metadata"].value("labels", Json::object()), &collisions);
  if (collisions != collisions_before) {
    Json copy = ds;
    copy["status"]["collisionCount"] = collisions;
    (void)client_->Update(kDaemonSets, NamespaceOf(ds), copy, "status");
  }
  if (!current.ok()) return current.status();
  std::string hash = LabelsOf(*current)[kHashLabel];
  KUBES_RETURN_IF_ERROR(history::TruncateHistory(client_, owned, NameOf(*current), hashes_in_use,
                                                 ds["spec"].value("revisionHistoryLimit", 10)));

  if (expectations_.Satisfied(key) && !IsBeingDeleted(ds)) {
    KUBES_RETURN_IF_ERROR(Manage(ds, key, hash, by_node, nodes));
  }
  return UpdateStatus(ds, hash, by_node, nodes);
}

Status DaemonSetController::Manage(const Json& ds, const std::string& key, const std::string& hash,
                                   std::map<std::string, std::vector<Json>>& by_node, const std::vector<Json>& nodes) {
  const Json strategy = ds["spec"].value("updateStrategy", Json::object());
  const Json rolling = strategy.value("rollingUpdate", Json::object());
  bool is_rolling = strategy.value("type", "RollingUpdate") == "RollingUpdate";
  TimePoint now = clock_.Now();
  int min_ready = ds["spec"].value("minReadySeconds", 0);

  std::vector<std::string> create_on;
  std::vector<Json> to_delete;
  int32_t desired = 0;
  for (const Json& node : nodes) {
    Placement place = NodeShouldRunDaemonPod(ds, node);
    desired += place.should_run;
    auto it = by_node.find(NameOf(node));
    bool exists = it != by_node.end() && !it->second.empty();
    if (place.should_run && !exists) {
      create_on.push_back(NameOf(node));
    } else if (place.should_continue && exists) {
      std::vector<Json> running;
      for (const Json& p : it->second) {
        if (IsBeingDeleted(p)) continue;
        if (IsPodTerminal(p)) {
          recorder_.Event(ds, "Warning", "FailedDaemonPod",
                          "Found failed daemon pod " + NamespaceOf(p) + "/" + NameOf(p) + " on node " + NameOf(node) +
                              ", will try to kill it");
          to_delete.push_back(p);
        } else {
          running.push_back(p);
        }
      }
      if (running.size() > 1 && !(is_rolling && ScaledUp(rolling.value("maxSurge", Json(0)), 1) > 0)) {
        SortOldestFirst(running);  // keep the oldest
        to_delete.insert(to_delete.end(), running.begin() + 1, running.end());
      }
    } else if (!place.should_continue && exists) {
      for (const Json& p : it->second) {
        if (!IsBeingDeleted(p)) to_delete.push_back(p);
      }
    }
  }

  // RollingUpdate: replace pods of older revisions within maxUnavailable (or maxSurge).
  if (is_rolling) {
    int32_t max_surge = ScaledUp(rolling.value("maxSurge", Json(0)), desired);
    int32_t max_unavailable = ScaledUp(rolling.value("maxUnavailable", Json(1)), desired);
    if (max_surge == 0 && max_unavailable == 0) max_unavailable = 1;
    int32_t unavailable = 0, surging = 0;
    std::vector<Json> replace_now, candidates;
    std::vector<std::string> surge_now, surge_candidates;
    for (auto& [node_name, pods] : by_node) {
      const Json* new_pod = nullptr;
      const Json* old_pod = nullptr;
      bool ok = true;
      for (const Json& p : pods) {
        if (IsBeingDeleted(p)) continue;
        const Json*& slot = LabelsOf(p)[kHashLabel] == hash ? new_pod : old_pod;
        if (slot) ok = false;
        slot = &p;
      }
      if (max_surge == 0) {
        if (!ok || (!old_pod && !new_pod) || (old_pod && new_pod)) {
          ++unavailable;
        } else if (new_pod) {
          if (!IsPodAvailable(*new_pod, min_ready, now)) ++unavailable;
        } else if (!IsPodAvailable(*old_pod, min_ready, now)) {
          replace_now.push_back(*old_pod);
        } else if (unavailable < max_unavailable) {
          candidates.push_back(*old_pod);
        }
        continue;
      }
      if (!ok) {
        ++surging;
      } else if (old_pod && !new_pod) {
        if (!IsPodAvailable(*old_pod, min_ready, now)) surge_now.push_back(node_name);
        else if (surging < max_surge) surge_candidates.push_back(node_name);
      } else if (old_pod && new_pod) {
        if (IsPodAvailable(*new_pod, min_ready, now)) to_delete.push_back(*old_pod);
        else ++surging;
      }
    }
    if (max_surge == 0) {
      int32_t room = std::clamp(max_unavailable - unavailable, 0, static_cast<int32_t>(candidates.size()));
      to_delete.insert(to_delete.end(), replace_now.begin(), replace_now.end());
      to_delete.insert(to_delete.end(), candidates.begin(), candidates.begin() + room);
    } else {
      int32_t room = std::clamp(max_surge - surging, 0, static_cast<int32_t>(surge_candidates.size()));
      create_on.insert(create_on.end(), surge_now.begin(), surge_now.end());
      create_on.insert(create_on.end(), surge_candidates.begin(), surge_candidates.begin() + room);
    }
  }

  // Create and delete (upstream syncNodes): creations first, in slow-start batches.
  std::sort(create_on.begin(), create_on.end());
  create_on.erase(std::unique(create_on.begin(), create_on.end()), create_on.end());
  std::vector<Json> creations;
  for (const auto& node : create_on) creations.push_back(NewDaemonPod(ds, node, hash));
  std::vector<std::string> seen;
  std::vector<Json> deletions;
  for (Json& p : to_delete) {
    if (std::find(seen.begin(), seen.end(), UidOf(p)) != seen.end()) continue;
    seen.push_back(UidOf(p));
    deletions.push_back(std::move(p));
  }
  return pod_control_.Apply(key, ds, creations, deletions);
}

Status DaemonSetController::UpdateStatus(const Json& ds, const std::string& hash,
                                         const std::map<std::string, std::vector<Json>>& by_node,
                                         const std::vector<Json>& nodes) {
  TimePoint now = clock_.Now();
  int min_ready = ds["spec"].value("minReadySeconds", 0);
  int32_t desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
  std::optional<TimePoint> next_available;
  for (const Json& node : nodes) {
    auto it = by_node.find(NameOf(node));
    bool scheduled = it != by_node.end() && !it->second.empty();
    if (!NodeShouldRunDaemonPod(ds, node).should_run) {
      misscheduled += scheduled;
      continue;
    }
    ++desired;
    if (!scheduled) continue;
    ++current;
    std::vector<Json> pods = it->second;
    SortOldestFirst(pods);
    const Json& pod = pods[0];
    if (auto since = ReadySince(pod)) {
      ++ready;
      if (IsPodAvailable(pod, min_ready, now)) ++available;
      else if (!next_available || *since + std::chrono::seconds(min_ready) < *next_available) {
        next_available = *since + std::chrono::seconds(min_ready);
      }
    }
    if (LabelsOf(pod)[kHashLabel] == hash) ++updated;
  }
  if (next_available) {
    queue_.AddAfter(KeyOf(ds), std::chrono::duration_cast<std::chrono::milliseconds>(*next_available - now) +
                                   std::chrono::milliseconds(100));
  }
  Json status = ds.value("status", Json::object());
  Json want = status;
  want["desiredNumberScheduled"] = desired;
  want["currentNumberScheduled"] = current;
  want["numberMisscheduled"] = misscheduled;
  want["numberReady"] = ready;
  want["observedGeneration"] = ds["metadata"].value("generation", 0);
  want["updatedNumberScheduled"] = updated;
  want["numberAvailable"] = available;
  want["numberUnavailable"] = desired - available;
  for (const char* f : {"updatedNumberScheduled", "numberAvailable", "numberUnavailable"}) {
    if (want[f] == 0) want.erase(f);  // omitempty upstream; the first four are always shown
  }
  if (want == status) return Status::OK();
  Json copy = ds;
  copy["status"] = want;
  auto r = client_->Update(kDaemonSets, NamespaceOf(ds), copy, "status");
  if (r.status().code() == Code::kNotFound) return Status::OK();
  return r.status();
}

}  // namespace kubes::controller
