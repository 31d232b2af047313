// DefaultPreemption — the PostFilter plugin: when a pod fits on no node, find a node
// where evicting pods of lower priority makes it fit, and say which pods those are
// (upstream: pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go
// and pkg/scheduler/framework/preemption/preemption.go, v1.32).
//
//   Preempt(pod)
//     eligible?            preemptionPolicy Never → "not eligible due to
//                          preemptionPolicy=Never."; pods of lower priority still
//                          terminating after a preemption on the pod's nominated node
//                          → "not eligible due to a terminating pod on the nominated node."
//     potential nodes      those whose filter failure was Unschedulable (resources,
//                          host ports); not UnschedulableAndUnresolvable (taints,
//                          affinity, nodeName, cordon)
//     SelectVictimsOnNode  remove every lower-priority pod; the pod must fit then;
//                          add them back from the most important down while the pod
//                          still fits ("reprieve") — first those whose eviction would
//                          violate a PodDisruptionBudget, then the others
//     pick one node        fewest PDB violations, lowest most-important victim,
//                          smallest sum of priorities, fewest victims, latest start
//                          of the most important victims, then the first
//
// Nothing here talks to the API: Preempt returns the chosen node and its victims, and
// the Scheduler (scheduler.cc PrepareCandidate) marks, deletes and reports them.
//
// Pure functions of their arguments: safe from any thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/framework/plugins/plugins.h"
#include "scheduler/framework/types.h"

namespace kubes::scheduler {

// Pods the scheduler has nominated to a node (status.nominatedNodeName) and not yet
// bound, by node name (upstream PodNominator).
using PodPtr = std::shared_ptr<const Json>;
using NominatedPods = std::map<std::string, std::vector<PodPtr>>;

inline constexpr char kReasonNoVictims[] = "No preemption victims found for incoming pod";
inline constexpr char kReasonNotHelpful[] = "Preemption is not helpful for scheduling";
inline constexpr char kNotEligiblePolicyNever[] = "not eligible due to preemptionPolicy=Never.";
inline constexpr char kNotEligibleTerminating[] = "not eligible due to a terminating pod on the nominated node.";
// The DisruptionTarget condition's reason on a victim (v1.PodReasonPreemptionByScheduler).
inline constexpr char kReasonPreemptionByScheduler[] = "PreemptionByScheduler";

// spec.priority, 0 when unset (upstream corev1helpers.PodPriority).
int64_t PodPriority(const Json& pod);
// Whether a should be evicted after b: higher priority, or the same priority and
// started earlier (upstream util.MoreImportantPod).
bool MoreImportantPod(const Json& a, const Json& b);
// Being deleted after this scheduler preempted it (DisruptionTarget True,
// PreemptionByScheduler, and a deletionTimestamp).
bool PodTerminatingByPreemption(const Json& pod);

// The filters of the default profile, run once with the nominated pods of at least
// the pod's priority added to the node and, if any were added, once without them;
// both must pass (upstream RunFilterPluginsWithNominatedPods). A higher-priority pod
// waiting for room on this node thus keeps it from lower-priority ones.
PluginStatus RunFilterPluginsWithNominatedPods(const Json& pod, const NodeInfo& node, const NominatedPods& nominated,
                                               const PodVolumes& volumes = {});

// The pods to evict and how many of them a PodDisruptionBudget does not allow to go.
struct Victims {
  std::vector<PodPtr> pods;  // most important first
  int64_t num_pdb_violations = 0;
};

// Splits pods (in their order) into those whose eviction would take a budget below
// zero and the others. A budget counts only pods it selects in its namespace that are
// not already in its status.disruptedPods (upstream filterPodsWithPDBViolation).
void FilterPodsWithPDBViolation(const std::vector<PodPtr>& pods, const std::vector<Json>& pdbs,
                                std::vector<PodPtr>* violating, std::vector<PodPtr>* non_violating);

// The fewest pods on the node to evict for the pod to fit (status ok), or why none
// will do (status: the filters' reasons, or kReasonNoVictims).
struct NodeVictims {
  Victims victims;
  PluginStatus status;
};
NodeVictims SelectVictimsOnNode(const Json& pod, NodeInfo node, const std::vector<Json>& pdbs,
                                const NominatedPods& nominated, const PodVolumes& volumes = {});

// upstream pickOneNodeForPreemption. REQUIRES: every entry has at least one victim.
std::string PickOneNodeForPreemption(const std::map<std::string, Victims>& candidates);

struct Candidate {
  std::string node;
  Victims victims;
};

// What PostFilter decided (upstream PostFilterResult and Status).
struct PostFilterResult {
  std::optional<Candidate> candidate;  // evict these and nominate the node
  bool clear_nomination = false;       // no node would do: status.nominatedNodeName → ""
  std::string message;                 // "preemption: …" when there is no candidate
};

// Everything Preempt reads besides the pod and the nodes.
struct PreemptionInputs {
  // node name → why the node was filtered out; a node missing from the map
  // counts as `absent` (both as in Diagnosis, schedule_one.h).
  const std::map<std::string, PluginStatus>* node_to_status = nullptr;
  const PluginStatus* absent = nullptr;
  const NominatedPods* nominated = nullptr;
  const std::vector<Json>* pdbs = nullptr;
  const PodVolumes* volumes = nullptr;
};
PostFilterResult Preempt(const Json& pod, const std::vector<NodeInfo>& nodes, const PreemptionInputs& in);

}  // namespace kubes::scheduler
