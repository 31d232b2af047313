// schedule_one — the decision for one pod over a snapshot of the nodes (upstream:
// pkg/scheduler/schedule_one.go schedulePod, findNodesThatFitPod, prioritizeNodes and
// selectHost; framework/types.go FitError; RunPostFilterPlugins with DefaultPreemption).
//
//   no nodes at all              → "no nodes available to schedule pods"
//   PreFilter (VolumeBinding,    → may narrow the nodes to the ones the pod names, or
//    NodeAffinity)                 reject the pod outright (a claim missing, terms that
//                                  conflict)
//   Filter each node             → the plugins in order; the first failure is the
//                                  node's status (framework/plugins/plugins.h)
//   a nominated node (status.    → tried alone first: if the pod fits there now (its
//    nominatedNodeName)              victims are gone), that is the node
//   no node passes               → PostFilter (DefaultPreemption, framework/plugins/
//                                  defaultpreemption.h): a node and the lower-priority
//                                  pods to evict there, or why there is none; then the
//                                  FitError message: every reason counted over the
//                                  nodes, sorted, then what preemption could not do
//   one node passes              → that node
//   several                      → Score, normalise, weigh, pick the highest score,
//                                  ties broken at random
//
// Every filter runs with the pods nominated to the node that are at least as important
// as this one (RunFilterPluginsWithNominatedPods): room freed by preemption for a
// higher-priority pod is not given to a lower-priority one.
//
// Pure functions of their arguments; call from any thread with its own rng.
#pragma once

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "scheduler/framework/plugins/defaultpreemption.h"
#include "scheduler/framework/plugins/plugins.h"
#include "scheduler/framework/types.h"

namespace kubes::scheduler {

inline constexpr char kErrNoNodesAvailable[] = "no nodes available to schedule pods";

// Why a pod fits nowhere (upstream framework.Diagnosis).
struct Diagnosis {
  std::map<std::string, PluginStatus> node_to_status;  // node name → why it was filtered out
  std::optional<PluginStatus> absent_nodes_status;     // the nodes the PreFilter left out
  std::string pre_filter_msg;                          // set when a PreFilter rejected the pod
  std::string post_filter_msg;                         // what preemption could do
};

// The filters of the default profile, in upstream's order; the first failure decides.
// volumes: what the scheduler found about the pod's claims (none: no claims).
PluginStatus RunFilterPlugins(const Json& pod, const NodeInfo& node, const PodVolumes& volumes = {});

struct NodeScore {
  std::string name;
  int64_t score = 0;
};
// Every plugin's score, normalised where the plugin normalises, times its weight, summed.
std::vector<NodeScore> PrioritizeNodes(const Json& pod, const std::vector<const NodeInfo*>& nodes);
// The node with the highest score; among equals, each is equally likely.
// REQUIRES: !scores.empty()
std::string SelectHost(const std::vector<NodeScore>& scores, std::mt19937_64& rng);

// "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {a: b}."
// followed by " " + post_filter_msg when there is one (upstream FitError.Error).
std::string FitErrorMessage(size_t num_all_nodes, const Diagnosis& d);
struct ScheduleResult {
  std::string suggested_host;  // the chosen node; empty when the pod fits nowhere
  std::string message;         // then: why (the PodScheduled condition's message)
  // Then also: what preemption found — a node and the victims to evict there (the
  // message then has no "preemption:" part), or whether to clear the nomination.
  PostFilterResult post_filter;
};
// nominated: pods waiting for room made for them (see above); pdbs: every
// PodDisruptionBudget, for choosing victims.
ScheduleResult SchedulePod(const Json& pod, const std::vector<NodeInfo>& nodes, std::mt19937_64& rng,
                           const PodVolumes& volumes = {}, const NominatedPods& nominated = {},
                           const std::vector<Json>& pdbs = {});

// Messages longer than an Event note may be (1024) end in " ..." (upstream truncateMessage).
std::string TruncateMessage(const std::string& message);

}  // namespace kubes::scheduler
