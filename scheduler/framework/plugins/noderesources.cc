// NodeResourcesFit (upstream plugins/noderesources: fit.go and the LeastAllocated
// scoring strategy of resource_allocation.go / least_allocated.go).
//
// Filter: the pod's requests (framework/types.h PodRequests: containers, sidecars, the
// largest init container, overhead) must fit in what the node's allocatable leaves
// after the requests of the pods already there (bound, or assumed by this scheduler),
// and the node must have room for one more pod (allocatable "pods"). Only requested
// resources are checked: a pod asking for nothing fits anywhere with a free pod slot.
//
// Score (LeastAllocated): for cpu and memory, (allocatable - requested) * 100 /
// allocatable, averaged — so pods spread to the emptiest nodes. Here containers that
// ask for nothing count as asking for 100m cpu and 200Mi memory, or a node full of
// best-effort pods would look empty.
#include <cstdint>

#include "scheduler/framework/plugins/plugins.h"

namespace kubes::scheduler {
namespace {

// (a > b - c) without overflowing on hostile numbers.
bool Exceeds(int64_t want, int64_t allocatable, int64_t requested) {
  __int128 left = static_cast<__int128>(allocatable) - requested;
  return want > left;
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum;
  return __builtin_add_overflow(a, b, &sum) ? (b > 0 ? INT64_MAX : INT64_MIN) : sum;
}

int64_t LeastRequestedScore(int64_t requested, int64_t capacity) {
  if (capacity <= 0 || requested > capacity) return 0;
  if (requested < 0) requested = 0;
  return static_cast<int64_t>(static_cast<__int128>(capacity - requested) * kMaxNodeScore / capacity);
}

}  // namespace

PluginStatus NodeResourcesFitFilter(const Json& pod, const NodeInfo& node) {
  Resource want = PodRequests(pod);
  const Resource& alloc = node.allocatable();
  const Resource& used = node.requested();
  std::vector<std::string> reasons;
  if (static_cast<int64_t>(node.num_pods()) + 1 > alloc.allowed_pod_number) reasons.push_back("Too many pods");
  if (want.milli_cpu > 0 && Exceeds(want.milli_cpu, alloc.milli_cpu, used.milli_cpu)) {
    reasons.push_back("Insufficient cpu");
  }
  if (want.memory > 0 && Exceeds(want.memory, alloc.memory, used.memory)) reasons.push_back("Insufficient memory");
  if (want.ephemeral_storage > 0 && Exceeds(want.ephemeral_storage, alloc.ephemeral_storage, used.ephemeral_storage)) {
    reasons.push_back("Insufficient ephemeral-storage");
  }
  for (const auto& [name, quantity] : want.scalar) {  // sorted by name (upstream: map order)
    if (quantity == 0) continue;
    auto have = alloc.scalar.find(name);
    auto taken = used.scalar.find(name);
    if (Exceeds(quantity, have == alloc.scalar.end() ? 0 : have->second, taken == used.scalar.end() ? 0 : taken->second)) {
      reasons.push_back("Insufficient " + name);
    }
  }
  if (reasons.empty()) return PluginStatus::Success();
  return PluginStatus::Unschedulable(std::move(reasons));
}

int64_t NodeResourcesFitScore(const Json& pod, const NodeInfo& node) {
  Resource want = PodNonZeroRequests(pod);
  const Resource& alloc = node.allocatable();
  const Resource& used = node.non_zero_requested();
  struct Dimension {
    int64_t requested, allocatable;
  };
  const Dimension dims[] = {{SaturatingAdd(used.milli_cpu, want.milli_cpu), alloc.milli_cpu},
                            {SaturatingAdd(used.memory, want.memory), alloc.memory}};
  int64_t score = 0, weights = 0;
  for (const auto& d : dims) {
    if (d.allocatable == 0) continue;  // a resource the node does not report is not scored
    score += LeastRequestedScore(d.requested, d.allocatable);
    weights += 1;
  }
  return weights == 0 ? 0 : score / weights;
}

}  // namespace kubes::scheduler
