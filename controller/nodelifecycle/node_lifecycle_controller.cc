#include "client/resources.h"
#include "controller/nodelifecycle/node_lifecycle_controller.h"

#include <optional>
#include <set>
#include <thread>

#include "scheduler/framework/plugins/plugins.h"

namespace kubes::controller {
namespace {

using client::kLeases;
using client::kNodes;
using client::kPods;

using Json = nlohmann::json;


constexpr char kUnreachable[] = "node.kubernetes.io/unreachable";
constexpr char kNotReady[] = "node.kubernetes.io/not-ready";
constexpr char kMemoryPressure[] = "node.kubernetes.io/memory-pressure";

// The status of the node's condition of this type ("" when it has none).
std::string ConditionStatus(const Json& node, const std::string& type) {
  for (const auto& c : node.value("status", Json::object()).value("conditions", Json::array())) {
    if (c.value("type", "") == type) return c.value("status", "Unknown");
  }
  return "";
}

std::string ReadyStatus(const Json& node) {
  std::string s = ConditionStatus(node, "Ready");
  return s.empty() ? "Unknown" : s;
}

TimePoint Parse(const Json& j) {
  if (!j.is_string()) return TimePoint{};
  return ParseRFC3339(j.get<std::string>()).value_or(TimePoint{});
}

}  // namespace

NodeLifecycleController::NodeLifecycleController(client::Client* c, client::SharedInformers* informers,
                                                 std::chrono::seconds grace_period, const Clock& clock)
    : client_(c),
      grace_(grace_period),
      clock_(clock),
      nodes_(informers->For(kNodes)),
      leases_(informers->For(kLeases)),
      pods_(informers->For(kPods)),
      recorder_(c, "node-controller") {}

std::optional<TimePoint> NodeLifecycleController::EvictionTime(const Json& pod, const Json& taints) {
  std::optional<TimePoint> when;
  const Json& tolerations = pod.value("spec", Json::object()).value("tolerations", Json::array());
  for (const auto& taint : taints) {
    if (taint.value("effect", "") != "NoExecute") continue;
    TimePoint added = Parse(taint.value("timeAdded", Json()));
    // The shortest tolerationSeconds among the tolerations that match decides.
    bool tolerated = false;
    std::optional<int64_t> seconds;
    for (const auto& t : tolerations) {
      if (!scheduler::ToleratesTaint(t, taint)) continue;
      tolerated = true;
      if (t.contains("tolerationSeconds") && t["tolerationSeconds"].is_number()) {
        int64_t s = std::max<int64_t>(0, t["tolerationSeconds"].get<int64_t>());
        seconds = seconds ? std::min(*seconds, s) : s;
      }  // a toleration without seconds tolerates for ever, unless another limits it
    }
    TimePoint due;
    if (!tolerated) due = TimePoint::min();
    else if (seconds) due = added + std::chrono::seconds(*seconds);
    else continue;
    when = when ? std::min(*when, due) : due;
  }
  return when;
}

void NodeLifecycleController::MarkPodsNotReady(const std::string& node_name) {
  std::string stamp = FormatRFC3339(clock_.Now());
  for (const auto& shared : pods_->Snapshot()) {
    if (shared->value("spec", Json::object()).value("nodeName", "") != node_name) continue;
    Json p = *shared;
    for (int attempt = 0; attempt < 3; ++attempt) {
      bool changed = false;
      for (auto& c : p["status"]["conditions"]) {
        if (c.value("type", "") == "Ready" && c.value("status", "") != "False") {
          c["status"] = "False";
          c["lastTransitionTime"] = stamp;
          changed = true;
        }
      }
      if (!changed) break;
      std::string ns = p["metadata"].value("namespace", "");
      auto r = client_->Update(kPods, ns, p, "status");
      if (r.status().code() != Code::kConflict) break;
      auto fresh = client_->Get(kPods, ns, p["metadata"].value("name", ""));  // the cache was behind
      if (!fresh.ok()) break;
      p = *fresh;
    }
  }
}

Status NodeLifecycleController::MonitorNode(const Json& node) {
  std::string name = node["metadata"].value("name", "");
  TimePoint now = clock_.Now();
  TimePoint heartbeat = TimePoint{};
  for (const auto& c : node.value("status", Json::object()).value("conditions", Json::array())) {
    if (c.value("type", "") == "Ready") heartbeat = Parse(c.value("lastHeartbeatTime", Json()));
  }
  Json lease;
  if (leases_->Get("kube-node-lease/" + name, &lease)) {
    heartbeat = std::max(heartbeat, Parse(lease["spec"].value("renewTime", Json())));
  }
  // A node seen for the first time gets the grace period from its creation.
  heartbeat = std::max(heartbeat, Parse(node["metadata"].value("creationTimestamp", Json())));
  Json updated = node;
  bool status_changed = false;
  if (now - heartbeat > grace_ && ReadyStatus(node) != "Unknown") {
    std::string stamp = FormatRFC3339(now);
    for (auto& c : updated["status"]["conditions"]) {
      c["status"] = "Unknown";
      c["reason"] = "NodeStatusUnknown";
      c["message"] = "Kubelet stopped posting node status.";
      c["lastTransitionTime"] = stamp;
    }
    status_changed = true;
    recorder_.Event(node, "Normal", "NodeNotReady", "Node " + name + " status is now: NodeNotReady");
  }
  if (status_changed) {
    auto s = client_->Update(kNodes, "", updated, "status");
    if (!s.ok()) return s.status();
    updated = *s;
  }
  // While the node is Unknown its pods are not ready (upstream MarkPodsNotReady). Checked
  // on every pass, not only at the transition, so a write that lost a race is redone.
  if (ReadyStatus(updated) == "Unknown") MarkPodsNotReady(name);
  // Taints follow the Ready condition (upstream: TaintNodesByCondition and the NoExecute
  // taints the eviction works from).
  std::string ready = ReadyStatus(updated);
  std::string want = ready == "Unknown" ? kUnreachable : ready == "False" ? kNotReady : "";
  Json taints = updated.value("spec", Json::object()).value("taints", Json::array());
  Json kept = Json::array();
  bool changed = false;
  std::set<std::string> have;
  for (const auto& t : taints) {
    std::string key = t.value("key", "");
    if ((key == kUnreachable || key == kNotReady) && key != want) {
      changed = true;  // a taint of a condition that no longer holds
      continue;
    }
    if (key == want) have.insert(t.value("effect", ""));
    kept.push_back(t);
  }
  if (!want.empty()) {
    for (const char* effect : {"NoSchedule", "NoExecute"}) {
      if (have.count(effect)) continue;
      Json t = {{"key", want}, {"effect", effect}};
      if (std::string(effect) == "NoExecute") t["timeAdded"] = FormatRFC3339(now);
      kept.push_back(t);
      changed = true;
    }
  }
  // MemoryPressure True (the kubelet evicting) keeps new pods away: NoSchedule only.
  bool memory_pressure = ConditionStatus(updated, "MemoryPressure") == "True";
  bool has_memory_taint = false;
  for (auto it = kept.begin(); it != kept.end();) {
    if (it->value("key", "") != kMemoryPressure) {
      ++it;
      continue;
    }
    if (memory_pressure && !has_memory_taint) {
      has_memory_taint = true;
      ++it;
    } else {
      it = kept.erase(it);
      changed = true;
    }
  }
  if (memory_pressure && !has_memory_taint) {
    kept.push_back({{"key", kMemoryPressure}, {"effect", "NoSchedule"}});
    changed = true;
  }
  if (changed) {
    Json patch = {{"spec", {{"taints", kept.empty() ? Json(nullptr) : kept}}}};
    auto s = client_->Patch(kNodes, "", name, "application/merge-patch+json", patch);
    if (!s.ok()) return s.status();
  }
  EvictPods(name, kept);
  return Status::OK();
}

void NodeLifecycleController::EvictPods(const std::string& node_name, const Json& taints) {
  bool no_execute = false;
  for (const auto& t : taints) no_execute |= t.value("effect", "") == "NoExecute";
  if (!no_execute) return;
  TimePoint now = clock_.Now();
  for (const auto& shared : pods_->Snapshot()) {
    const Json& pod = *shared;
    if (pod.value("spec", Json::object()).value("nodeName", "") != node_name || pod["metadata"].contains("deletionTimestamp")) continue;
    auto due = EvictionTime(pod, taints);
    if (!due || *due > now) continue;
    std::string ns = pod["metadata"].value("namespace", ""), name = pod["metadata"].value("name", "");
    Json p = pod;
    Json& conditions = p["status"]["conditions"];
    if (!conditions.is_array()) conditions = Json::array();
    conditions.push_back({{"type", "DisruptionTarget"}, {"status", "True"}, {"reason", "DeletionByTaintManager"},
                          {"message", "Taint manager: deleting due to NoExecute taint"},
                          {"lastTransitionTime", FormatRFC3339(now)}});
    (void)client_->Update(kPods, ns, p, "status");
    recorder_.Event(pod, "Normal", "TaintManagerEviction", "Marking for deletion Pod " + ns + "/" + name);
    (void)client_->Delete(kPods, ns, name);
  }
}

void NodeLifecycleController::MonitorNodes() {
  for (const auto& node : nodes_->List()) {
    Status s = MonitorNode(node);
    if (!s.ok() && s.code() != Code::kConflict && s.code() != Code::kNotFound) {
      std::fprintf(stderr, "node-lifecycle-controller: node %s: %s\n",
                   node["metadata"].value("name", "").c_str(), s.message().c_str());
    }
  }
}

void NodeLifecycleController::Run(const std::atomic<bool>& stop) {
  while (!stop) {
    if (nodes_->HasSynced() && leases_->HasSynced() && pods_->HasSynced()) MonitorNodes();
    // upstream's --node-monitor-period is 5 s; one second keeps the example snappy.
    for (int i = 0; i < 10 && !stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace kubes::controller
