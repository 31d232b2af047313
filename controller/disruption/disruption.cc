#include "controller/disruption/disruption.h"

#include <cmath>
#include <map>

#include "client/resources.h"
#include "controller/worker.h"

namespace kubes::controller {
namespace {

using client::kDeployments;
using client::kPodDisruptionBudgets;
using client::kReplicaSets;
using client::kReplicationControllers;
using client::kStatefulSets;

std::string KeyOf(const Json& obj) { return client::Informer::KeyOf(obj); }

// An IntOrString out of total, percentages rounded up (as the disruption controller
// resolves them).
int32_t Scaled(const Json& v, int32_t total) {
  if (v.is_number_integer()) return v.get<int32_t>();
  std::string s = v.is_string() ? v.get<std::string>() : "";
  if (s.empty() || s.back() != '%') return 0;
  int pct = std::atoi(s.c_str());
  return static_cast<int32_t>(std::ceil(static_cast<double>(pct) * total / 100.0));
}

int32_t SpecReplicas(const Json& obj) {
  const Json spec = obj.value("spec", Json::object());
  return spec.value("replicas", 1);
}

}  // namespace

DisruptionController::DisruptionController(client::Client* c, client::Informer& pods, client::Informer& budgets,
                                           const Clock& clock)
    : client_(c), pods_(pods), budgets_(budgets), clock_(clock), recorder_(c, "controllermanager", "", clock) {
  budgets_.AddIndex(client::Informer::kNamespaceIndex);
  pods_.AddIndex(client::Informer::kNamespaceIndex);
  auto enqueue = [this](const Json& pdb) { queue_.Add(KeyOf(pdb)); };
  budgets_.AddHandlers({.on_add = enqueue,
                        .on_update = [enqueue](const Json&, const Json& pdb) { enqueue(pdb); },
                        .on_delete = nullptr});
  pods_.AddHandlers({.on_add = [this](const Json& p) { EnqueueBudgetsFor(p); },
                     .on_update =
                         [this](const Json& old_pod, const Json& p) {
                           if (LabelsOf(old_pod) != LabelsOf(p)) EnqueueBudgetsFor(old_pod);
                           EnqueueBudgetsFor(p);
                         },
                     .on_delete = [this](const Json& p) { EnqueueBudgetsFor(p); }});
}

void DisruptionController::EnqueueBudgetsFor(const Json& pod) {
  labels::Labels l = LabelsOf(pod);
  for (const auto& ptr : budgets_.ByIndex(client::Informer::kNamespaceIndex, NamespaceOf(pod))) {
    const Json& pdb = *ptr;
    auto sel = labels::SelectorFromLabelSelector(pdb.value("spec", Json::object()).value("selector", Json()));
    if (sel.ok() && !sel->Empty() && sel->Matches(l)) queue_.Add(KeyOf(pdb));
  }
}

void DisruptionController::Run(const std::atomic<bool>& stop) {
  RunWorker(queue_, stop, std::chrono::milliseconds(200), [this](const std::string& key) { return SyncBudget(key); });
}

Result<int32_t> DisruptionController::ExpectedScale(const Json& pdb, const std::vector<Json>& pods) {
  std::map<std::string, int32_t> scale_by_controller;  // uid → replicas
  for (const Json& pod : pods) {
    auto ref = GetControllerOf(pod);
    if (!ref) {
      std::string msg = "found no controller ref for pod \"" + NameOf(pod) + "\"";
      recorder_.Event(pdb, "Warning", "NoControllerRef", msg);
      return Status(Code::kInvalid, msg);
    }
    if (scale_by_controller.count(ref->value("uid", ""))) continue;
    std::string kind = ref->value("kind", ""), api_version = ref->value("apiVersion", "");
    std::string ns = NamespaceOf(pod), name = ref->value("name", "");
    std::optional<Json> owner;
    if (kind == "ReplicaSet" && api_version == "apps/v1") {
      auto rs = client_->Get(kReplicaSets, ns, name);
      if (rs.ok() && UidOf(*rs) == ref->value("uid", "")) {
        // A Deployment's ReplicaSet: the Deployment's scale counts.
        auto rs_ref = GetControllerOf(*rs);
        if (rs_ref && rs_ref->value("kind", "") == "Deployment") {
          auto d = client_->Get(kDeployments, ns, rs_ref->value("name", ""));
          if (d.ok() && UidOf(*d) == rs_ref->value("uid", "")) {
            scale_by_controller[UidOf(*d)] = SpecReplicas(*d);
            scale_by_controller[UidOf(*rs)] = 0;  // seen; counted through its Deployment
            continue;
          }
        }
        owner = *rs;
      }
    } else if (kind == "StatefulSet" && api_version == "apps/v1") {
      auto sts = client_->Get(kStatefulSets, ns, name);
      if (sts.ok()) owner = *sts;
    } else if (kind == "ReplicationController" && api_version == "v1") {
      auto rc = client_->Get(kReplicationControllers, ns, name);
      if (rc.ok()) owner = *rc;
    }
    if (!owner || UidOf(*owner) != ref->value("uid", "")) {
      std::string msg = "found no controllers for pod \"" + NameOf(pod) + "\"";
      recorder_.Event(pdb, "Warning", "NoControllers", msg);
      return Status(Code::kInvalid, msg);
    }
    scale_by_controller[UidOf(*owner)] = SpecReplicas(*owner);
  }
  int32_t total = 0;
  for (const auto& [uid, n] : scale_by_controller) total += n;
  return total;
}

Status DisruptionController::SyncBudget(const std::string& key) {
  Json pdb;
  if (!budgets_.Get(key, &pdb)) return Status::OK();
  const Json spec = pdb.value("spec", Json::object());
  auto selector = labels::SelectorFromLabelSelector(spec.value("selector", Json()));
  std::vector<Json> pods;
  if (selector.ok() && !selector->Empty()) {
    for (const auto& p : pods_.ByIndex(client::Informer::kNamespaceIndex, NamespaceOf(pdb))) {
      if (selector->Matches(LabelsOf(*p))) pods.push_back(*p);
    }
  }

  int32_t expected = 0, desired = 0;
  if (spec.contains("maxUnavailable") && !spec["maxUnavailable"].is_null()) {
    auto scale = ExpectedScale(pdb, pods);
    if (!scale.ok()) return FailSafe(pdb, scale.status().message());
    expected = *scale;
    desired = std::max(0, expected - Scaled(spec["maxUnavailable"], expected));
  } else if (spec.contains("minAvailable") && spec["minAvailable"].is_number_integer()) {
    desired = spec["minAvailable"].get<int32_t>();
    expected = static_cast<int32_t>(pods.size());
  } else if (spec.contains("minAvailable") && spec["minAvailable"].is_string()) {
    auto scale = ExpectedScale(pdb, pods);
    if (!scale.ok()) return FailSafe(pdb, scale.status().message());
    expected = *scale;
    desired = Scaled(spec["minAvailable"], expected);
  }

  // Evictions the apiserver allowed recently: those pods already count as gone.
  TimePoint now = clock_.Now();
  const Json old_status = pdb.value("status", Json::object());
  const Json disrupted_before = old_status.value("disruptedPods", Json::object());
  Json disrupted = Json::object();
  std::optional<TimePoint> recheck;
  for (const Json& p : pods) {
    if (IsBeingDeleted(p) || !disrupted_before.contains(NameOf(p))) continue;
    auto at = ParseRFC3339(disrupted_before[NameOf(p)].get<std::string>());
    if (!at) continue;
    TimePoint expires = *at + kDeletionTimeout;
    if (expires < now) {
      recorder_.Event(p, "Warning", "NotDeleted",
                      "Pod was expected by PDB " + NamespaceOf(pdb) + "/" + NameOf(pdb) +
                          " to be deleted but it wasn't");
      continue;
    }
    disrupted[NameOf(p)] = disrupted_before[NameOf(p)];
    if (!recheck || expires < *recheck) recheck = expires;
  }
  int32_t healthy = 0;
  for (const Json& p : pods) {
    if (!IsBeingDeleted(p) && !disrupted.contains(NameOf(p)) && IsPodReady(p)) ++healthy;
  }
  int32_t allowed = healthy - desired;
  if (expected <= 0 || allowed <= 0) allowed = 0;
  if (recheck) {
    queue_.AddAfter(key, std::chrono::duration_cast<std::chrono::milliseconds>(*recheck - now) +
                             std::chrono::milliseconds(100));
  }

  Json status = old_status;
  status["currentHealthy"] = healthy;
  status["desiredHealthy"] = desired;
  status["expectedPods"] = expected;
  status["disruptionsAllowed"] = allowed;
  if (disrupted.empty()) status.erase("disruptedPods");
  else status["disruptedPods"] = disrupted;
  status["observedGeneration"] = pdb["metadata"].value("generation", int64_t{0});
  return WriteStatus(pdb, std::move(status));
}

// The expected count is unknown: allow no disruption, and say why.
Status DisruptionController::FailSafe(const Json& pdb, const std::string& why) {
  Json status = pdb.value("status", Json::object());
  status["disruptionsAllowed"] = 0;
  Json cond = {{"type", "DisruptionAllowed"}, {"status", "False"}, {"reason", "SyncFailed"}, {"message", why}};
  return WriteStatus(pdb, std::move(status), std::move(cond));
}

Status DisruptionController::WriteStatus(const Json& pdb, Json status, std::optional<Json> failed) {
  // The DisruptionAllowed condition (metav1.Condition) follows disruptionsAllowed,
  // unless a failed sync says otherwise.
  Json cond;
  if (failed) {
    cond = std::move(*failed);
  } else if (status.value("disruptionsAllowed", 0) > 0) {
    cond = {{"type", "DisruptionAllowed"}, {"status", "True"}, {"reason", "SufficientPods"}, {"message", ""}};
  } else {
    cond = {{"type", "DisruptionAllowed"}, {"status", "False"}, {"reason", "InsufficientPods"}, {"message", ""}};
  }
  cond["observedGeneration"] = status.value("observedGeneration", int64_t{0});
  Json conditions = Json::array();
  std::string transition = FormatRFC3339(clock_.Now());
  for (const Json& c : status.value("conditions", Json::array())) {
    if (c.value("type", "") != "DisruptionAllowed") {
      conditions.push_back(c);
    } else if (c.value("status", "") == cond["status"]) {
      transition = c.value("lastTransitionTime", transition);
    }
  }
  cond["lastTransitionTime"] = transition;
  conditions.push_back(cond);
  status["conditions"] = conditions;
  if (status == pdb.value("status", Json::object())) return Status::OK();
  Json updated = pdb;
  updated["status"] = std::move(status);
  auto r = client_->Update(kPodDisruptionBudgets, NamespaceOf(pdb), updated, "status");
  if (r.status().code() == Code::kNotFound) return Status::OK();
  return r.status();
}

}  // namespace kubes::controller
