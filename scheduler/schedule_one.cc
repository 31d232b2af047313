#include "scheduler/schedule_one.h"

#include <algorithm>

#include "util/strings.h"

namespace kubes::scheduler {
namespace {

constexpr size_t kNoteLengthLimit = 1024;

// Weights of the scoring plugins in the default profile.
constexpr int64_t kNodeResourcesFitWeight = 1;
constexpr int64_t kNodeAffinityWeight = 2;
constexpr int64_t kTaintTolerationWeight = 3;

}  // namespace

PluginStatus RunFilterPlugins(const Json& pod, const NodeInfo& node, const PodVolumes& volumes) {
  using Filter = PluginStatus (*)(const Json&, const NodeInfo&);
  static constexpr Filter kFilters[] = {NodeUnschedulableFilter, NodeNameFilter, TaintTolerationFilter,
                                        NodeAffinityFilter,      NodePortsFilter, NodeResourcesFitFilter};
  for (Filter f : kFilters) {
    PluginStatus s = f(pod, node);
    if (!s.ok()) return s;
  }
  return VolumeBindingFilter(volumes, node);
}

std::vector<NodeScore> PrioritizeNodes(const Json& pod, const std::vector<const NodeInfo*>& nodes) {
  size_t n = nodes.size();
  std::vector<int64_t> fit(n), affinity(n), taints(n);
  for (size_t i = 0; i < n; ++i) {
    fit[i] = NodeResourcesFitScore(pod, *nodes[i]);
    affinity[i] = NodeAffinityScore(pod, *nodes[i]);
    taints[i] = TaintTolerationScore(pod, *nodes[i]);
  }
  DefaultNormalizeScore(kMaxNodeScore, false, affinity);
  DefaultNormalizeScore(kMaxNodeScore, true, taints);
  std::vector<NodeScore> out(n);
  for (size_t i = 0; i < n; ++i) {
    out[i] = {nodes[i]->name(), kNodeResourcesFitWeight * fit[i] + kNodeAffinityWeight * affinity[i] +
                                    kTaintTolerationWeight * taints[i]};
  }
  return out;
}

std::string SelectHost(const std::vector<NodeScore>& scores, std::mt19937_64& rng) {
  // Reservoir sampling over the nodes sharing the highest score.
  std::string selected = scores.front().name;
  int64_t best = scores.front().score;
  uint64_t ties = 1;
  for (size_t i = 1; i < scores.size(); ++i) {
    if (scores[i].score > best) {
      best = scores[i].score;
      selected = scores[i].name;
      ties = 1;
    } else if (scores[i].score == best && rng() % ++ties == 0) {
      selected = scores[i].name;
    }
  }
  return selected;
}

std::string FitErrorMessage(size_t num_all_nodes, const Diagnosis& d) {
  std::string msg = "0/" + std::to_string(num_all_nodes) + " nodes are available:";
  if (!d.pre_filter_msg.empty()) {
    msg += " " + d.pre_filter_msg + ".";
  } else {
    std::map<std::string, size_t> reasons;
    for (const auto& [node, status] : d.node_to_status) {
      for (const auto& r : status.reasons) ++reasons[r];
    }
    if (d.absent_nodes_status && d.node_to_status.size() < num_all_nodes) {
      for (const auto& r : d.absent_nodes_status->reasons) reasons[r] += num_all_nodes - d.node_to_status.size();
    }
    std::vector<std::string> counted;
    for (const auto& [reason, n] : reasons) counted.push_back(std::to_string(n) + " " + reason);
    std::sort(counted.begin(), counted.end());  // as strings: "10 x" sorts before "2 y", as upstream
    if (!counted.empty()) msg += " " + Join(counted, ", ") + ".";
  }
  if (!d.post_filter_msg.empty()) msg += " " + d.post_filter_msg;
  return msg;
}

namespace {

// PostFilter, then the message (upstream schedulePod's FitError path).
ScheduleResult Unschedulable(const Json& pod, const std::vector<NodeInfo>& nodes, Diagnosis& d,
                             const PodVolumes& volumes, const NominatedPods& nominated,
                             const std::vector<Json>& pdbs) {
  PreemptionInputs in{&d.node_to_status, d.absent_nodes_status ? &*d.absent_nodes_status : nullptr, &nominated, &pdbs,
                      &volumes};
  ScheduleResult r;
  r.post_filter = Preempt(pod, nodes, in);
  d.post_filter_msg = r.post_filter.message;
  r.message = FitErrorMessage(nodes.size(), d);
  return r;
}

}  // namespace

ScheduleResult SchedulePod(const Json& pod, const std::vector<NodeInfo>& nodes, std::mt19937_64& rng,
                           const PodVolumes& volumes, const NominatedPods& nominated, const std::vector<Json>& pdbs) {
  if (nodes.empty()) return {"", kErrNoNodesAvailable, {}};
  Diagnosis d;
  if (PluginStatus vb = VolumeBindingPreFilter(volumes); !vb.ok()) {
    d.absent_nodes_status = vb;
    d.pre_filter_msg = Join(vb.reasons, ", ");
    return Unschedulable(pod, nodes, d, volumes, nominated, pdbs);
  }
  NodeAffinityPreFilterResult pre = NodeAffinityPreFilter(pod);
  if (!pre.status.ok()) {
    d.absent_nodes_status = pre.status;
    d.pre_filter_msg = Join(pre.status.reasons, ", ");
    return Unschedulable(pod, nodes, d, volumes, nominated, pdbs);
  }
  auto wanted = [&](const NodeInfo& node) { return !pre.node_names || pre.node_names->count(node.name()); };
  // The node preemption made room on: if the pod fits there now, it goes there.
  std::string nominated_node = StringAt(pod, {"status", "nominatedNodeName"});
  for (const NodeInfo& node : nodes) {
    if (node.name() != nominated_node || !wanted(node)) continue;
    if (RunFilterPluginsWithNominatedPods(pod, node, nominated, volumes).ok()) return {node.name(), "", {}};
  }
  std::vector<const NodeInfo*> feasible;
  for (const NodeInfo& node : nodes) {
    if (!wanted(node)) continue;
    PluginStatus s = RunFilterPluginsWithNominatedPods(pod, node, nominated, volumes);
    if (s.ok()) feasible.push_back(&node);
    else d.node_to_status[node.name()] = std::move(s);
  }
  if (pre.node_names) {
    d.absent_nodes_status = PluginStatus::Unresolvable("node(s) didn't satisfy plugin(s) [NodeAffinity]");
  }
  if (feasible.empty()) return Unschedulable(pod, nodes, d, volumes, nominated, pdbs);
  if (feasible.size() == 1) return {feasible[0]->name(), "", {}};
  return {SelectHost(PrioritizeNodes(pod, feasible), rng), "", {}};
}

std::string TruncateMessage(const std::string& message) {
  if (message.size() <= kNoteLengthLimit) return message;
  const std::string suffix = " ...";
  return message.substr(0, kNoteLengthLimit - suffix.size()) + suffix;
}

}  // namespace kubes::scheduler
