// The kubelet's side of node-pressure eviction (see eviction.h): read the signal from
// the stats just collected, report MemoryPressure, evict the pod the plan names.
#include "apimachinery/resource/quantity.h"
#include "client/resources.h"
#include "kubelet/eviction.h"
#include "kubelet/kubelet.h"

namespace kubes::kubelet {
namespace {

int64_t MemoryOf(const Json& stats) {
  return stats.value("memory", Json::object()).value("workingSetBytes", int64_t{0});
}

}  // namespace

void Kubelet::EnforceEviction(const std::vector<PodStatsRef>& refs) {
  if (options_.eviction_memory.Bytes(1) == 0 && options_.eviction_memory.percentage == 0) return;
  Json summary = stats_->Summary(options_.node_name, refs);
  if (!summary["node"].contains("memory")) return;  // no reading yet
  Json status = BuildNode()["status"];
  int64_t capacity = resource::QuantityValue(status["capacity"].value("memory", Json()));
  // The allocatable signal counts from capacity less what is reserved for the system,
  // not less the eviction threshold itself.
  int64_t for_pods = capacity - options_.system_reserved_memory;
  int64_t pods_working_set = 0;
  std::vector<PodMemoryUse> pods;
  for (const auto& item : summary["pods"]) {
    client::ObjectPtr found = PodByUID(item["podRef"].value("uid", ""));
    if (!found) continue;
    const Json& pod = *found;
    std::string phase = pod.value("status", Json::object()).value("phase", "");
    if (phase == "Succeeded" || phase == "Failed" || pod["metadata"].contains("deletionTimestamp")) continue;
    PodMemoryUse use{pod, MemoryOf(item), {}};
    for (const auto& c : item["containers"]) use.containers[c.value("name", "")] = MemoryOf(c);
    pods_working_set += use.working_set;
    pods.push_back(std::move(use));
  }
  int64_t available = std::min(capacity - MemoryOf(summary["node"]), for_pods - pods_working_set);
  EvictionPlan plan = PlanMemoryEviction(options_.eviction_memory, available, capacity, pods);
  if (memory_pressure_.exchange(plan.pressure) != plan.pressure) {
    if (plan.pressure) {
      Json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", options_.node_name}, {"uid", options_.node_name}}}};
      recorder_->Event(node, "Warning", "EvictionThresholdMet", "Attempting to reclaim memory");
    }
    (void)UpdateNodeStatus();  // the MemoryPressure condition now, not at the next beat
  }
  if (!plan.victim) return;
  Json pod = pods[*plan.victim].pod;
  std::string ns = pod["metadata"].value("namespace", ""), name = pod["metadata"].value("name", "");
  std::fprintf(stderr, "kubelet: evicting pod %s/%s: %s\n", ns.c_str(), name.c_str(), plan.message.c_str());
  recorder_->Event(pod, "Warning", "Evicted", plan.message);
  // Failed at once (a hard threshold has no grace period); SyncPod then kills what runs.
  Json& st = pod["status"];
  st["phase"] = "Failed";
  st["reason"] = "Evicted";
  st["message"] = plan.message;
  Json conditions = Json::array();
  for (const auto& c : st.value("conditions", Json::array())) {
    if (c.value("type", "") != "DisruptionTarget") conditions.push_back(c);
  }
  conditions.push_back({{"type", "DisruptionTarget"},
                        {"status", "True"},
                        {"reason", "TerminationByKubelet"},
                        {"message", plan.message},
                        {"lastProbeTime", nullptr},
                        {"lastTransitionTime", FormatRFC3339(clock_.Now())}});
  st["conditions"] = conditions;
  auto updated = client_->Update(client::kPods, ns, pod, "status");
  if (!updated.ok()) {
    std::fprintf(stderr, "kubelet: evict %s/%s: %s\n", ns.c_str(), name.c_str(), updated.status().message().c_str());
    return;
  }
  Enqueue(pod["metadata"].value("uid", ""));
}

}  // namespace kubes::kubelet
