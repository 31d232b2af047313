// The kube-scheduler plugins kubes runs, as plain functions of a pod and one node
// (upstream: pkg/scheduler/framework/plugins/<name>/, the default profile).
//
//   plugin              filter (first failure decides)            score (weight)
//   NodeUnschedulable   spec.unschedulable, unless tolerated       -
//   NodeName            spec.nodeName names another node           -
//   TaintToleration     untolerated NoSchedule/NoExecute taints    fewer untolerated PreferNoSchedule (3)
//   NodeAffinity        nodeSelector and required affinity terms   weights of matching preferred terms (2)
//   NodePorts           a wanted host port is taken                -
//   NodeResourcesFit    requests exceed what is left               LeastAllocated (1)
//   VolumeBinding       a bound claim's volume is on another node  -
//                       (PreFilter: a claim missing or being deleted)
//
// Filters return the reasons in upstream's words, since users read them in
// `kubectl describe pod`. Scores return the plugin's raw score; schedule_one.cc
// normalises and weighs them. Not here: pod (anti-)affinity, topology spread, volume
// limits and zones, image locality, balanced allocation (see scheduler/README.md).
//
// Pure functions: safe from any thread.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "scheduler/framework/types.h"

namespace kubes::scheduler {

constexpr int64_t kMaxNodeScore = 100;

// ---- NodeUnschedulable ----
inline constexpr char kErrReasonUnschedulable[] = "node(s) were unschedulable";
PluginStatus NodeUnschedulableFilter(const Json& pod, const NodeInfo& node);

// ---- NodeName ----
inline constexpr char kErrReasonNodeName[] = "node(s) didn't match the requested node name";
PluginStatus NodeNameFilter(const Json& pod, const NodeInfo& node);

// ---- TaintToleration ----
// v1.Toleration.ToleratesTaint: the effect and key match when the toleration names
// them; operator Exists ignores the value, Equal (the default) compares it.
bool ToleratesTaint(const Json& toleration, const Json& taint);
bool TolerationsTolerateTaint(const Json& tolerations, const Json& taint);
// "node(s) had untolerated taint {key: value}" for the node's first untolerated
// NoSchedule or NoExecute taint.
PluginStatus TaintTolerationFilter(const Json& pod, const NodeInfo& node);
// Raw score: how many PreferNoSchedule taints the pod does not tolerate (normalised in
// reverse: fewer is better).
int64_t TaintTolerationScore(const Json& pod, const NodeInfo& node);

// ---- NodeAffinity ----
inline constexpr char kErrReasonNodeAffinity[] = "node(s) didn't match Pod's node affinity/selector";
inline constexpr char kErrReasonAffinityConflict[] = "pod affinity terms conflict";
// PreFilter: when every required term names nodes (matchFields metadata.name In), only
// those nodes are worth filtering. node_names unset means all nodes.
struct NodeAffinityPreFilterResult {
  PluginStatus status;
  std::optional<std::set<std::string>> node_names;
};
NodeAffinityPreFilterResult NodeAffinityPreFilter(const Json& pod);
// spec.nodeSelector and requiredDuringSchedulingIgnoredDuringExecution (upstream
// component-helpers nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)).
bool RequiredNodeAffinityMatches(const Json& pod, const Json& node);
// A v1.NodeSelector (its nodeSelectorTerms are ORed; an empty term matches nothing)
// against a node: a PersistentVolume's spec.nodeAffinity.required.
bool NodeSelectorMatches(const Json& node_selector, const Json& node);
PluginStatus NodeAffinityFilter(const Json& pod, const NodeInfo& node);
// Raw score: the sum of the weights of the preferred terms the node matches.
int64_t NodeAffinityScore(const Json& pod, const NodeInfo& node);

// ---- NodePorts ----
inline constexpr char kErrReasonNodePorts[] = "node(s) didn't have free ports for the requested pod ports";
PluginStatus NodePortsFilter(const Json& pod, const NodeInfo& node);

// ---- NodeResourcesFit ----
// "Too many pods", "Insufficient cpu", "Insufficient memory", "Insufficient
// ephemeral-storage", "Insufficient example.com/gpu" — every resource that is short.
PluginStatus NodeResourcesFitFilter(const Json& pod, const NodeInfo& node);
// LeastAllocated over cpu and memory (weight 1 each): 100 for an empty node, 0 for a
// full one, counting containers without requests as asking for 100m / 200Mi.
int64_t NodeResourcesFitScore(const Json& pod, const NodeInfo& node);

// ---- VolumeBinding ----
inline constexpr char kErrReasonVolumeNodeAffinityConflict[] = "node(s) had volume node affinity conflict";
// What the scheduler found about the pod's PersistentVolumeClaims (scheduler.cc reads
// them from its informers; upstream's PreFilter does the same lookups).
struct PodVolumes {
  // Why the pod cannot be scheduled anywhere now, in upstream's words:
  // `persistentvolumeclaim "data" not found`, `… is being deleted`, or a claim bound to
  // a volume that does not exist.
  std::string unresolvable;
  std::vector<Json> bound;  // the PersistentVolumes of the claims already bound
};
PluginStatus VolumeBindingPreFilter(const PodVolumes& volumes);
// The node must satisfy every bound volume's required node affinity.
PluginStatus VolumeBindingFilter(const PodVolumes& volumes, const NodeInfo& node);

// ---- Score helpers ----
// Scales scores to 0..max_priority by the highest one; reverse makes the lowest best
// (upstream helper.DefaultNormalizeScore).
void DefaultNormalizeScore(int64_t max_priority, bool reverse, std::vector<int64_t>& scores);

}  // namespace kubes::scheduler
