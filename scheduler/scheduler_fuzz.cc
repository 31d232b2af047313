// libFuzzer harness for the scheduler's reading of API objects: the bytes are a
// quantity, and (when they parse as JSON) a pod — or {"pod": ..., "nodes": [{"node":
// ..., "pods": [...]}]} — run through every filter, score, the whole decision with its
// message, and the cache. Nothing may crash or overflow, whatever the objects hold.
// Seeds: scheduler/fuzz_corpus/scheduler/.
#include <cstddef>
#include <cstdint>
#include <random>
#include <string_view>

#include "scheduler/cache.h"
#include "scheduler/schedule_one.h"

namespace {

using kubes::scheduler::Json;
using kubes::scheduler::NodeInfo;

// A few nodes that exercise every plugin when the input brings none.
std::vector<NodeInfo> DefaultNodes() {
  Json plain = {{"metadata", {{"name", "plain"}, {"labels", {{"zone", "a"}, {"cores", "8"}}}}},
                {"status", {{"allocatable", {{"cpu", "2"}, {"memory", "4Gi"}, {"pods", "3"}, {"example.com/gpu", "1"}}}}}};
  Json tainted = {{"metadata", {{"name", "tainted"}}},
                  {"spec", {{"unschedulable", true},
                            {"taints", {{{"key", "k"}, {"value", "v"}, {"effect", "NoSchedule"}},
                                        {{"key", "soft"}, {"effect", "PreferNoSchedule"}}}}}},
                  {"status", {{"allocatable", {{"cpu", "500m"}, {"pods", "110"}}}}}};
  Json container = {{"name", "c"}, {"ports", {{{"hostPort", 80}}}}, {"resources", {{"requests", {{"cpu", "1"}}}}}};
  Json busy = {{"metadata", {{"name", "busy"}, {"namespace", "d"}, {"uid", "busy"}}},
               {"spec", {{"priority", -5}, {"containers", {container}}}}};
  return {NodeInfo::New(plain, {busy}), NodeInfo::New(tainted)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kubes::scheduler;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)QuantityValue(text);
  (void)QuantityMilliValue(text);
  Json in = Json::parse(text, nullptr, false);
  if (in.is_discarded()) return 0;

  Json pod = in;
  std::vector<NodeInfo> nodes;
  if (in.is_object() && in.contains("nodes")) {
    pod = in.value("pod", Json());
    for (const Json& n : ArrayAt(in, {"nodes"})) {
      std::vector<Json> pods;
      for (const Json& p : ArrayAt(n, {"pods"})) pods.push_back(p);
      nodes.push_back(NodeInfo::New(At(n, {"node"}), pods));
    }
  } else {
    nodes = DefaultNodes();
  }

  for (const NodeInfo& node : nodes) {
    for (auto filter : {NodeUnschedulableFilter, NodeNameFilter, TaintTolerationFilter, NodeAffinityFilter,
                        NodePortsFilter, NodeResourcesFitFilter}) {
      (void)filter(pod, node);
    }
    (void)NodeResourcesFitScore(pod, node);
    (void)NodeAffinityScore(pod, node);
    (void)TaintTolerationScore(pod, node);
  }
  (void)NodeAffinityPreFilter(pod);
  std::mt19937_64 rng(size);
  ScheduleResult r = SchedulePod(pod, nodes, rng);
  (void)TruncateMessage(r.message);

  Cache cache;
  for (const NodeInfo& node : nodes) cache.AddOrUpdateNode(node.node());
  cache.AddOrUpdatePod(pod);
  cache.AssumePod(pod, nodes.empty() ? "x" : nodes[0].name());
  (void)cache.Snapshot();
  cache.ForgetPod(PodUID(pod));
  cache.RemovePod(pod);
  return 0;
}
