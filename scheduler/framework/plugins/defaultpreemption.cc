#include "scheduler/framework/plugins/defaultpreemption.h"

#include <algorithm>
#include <climits>

#include "apimachinery/labels/selector.h"
#include "scheduler/schedule_one.h"
#include "util/time.h"

namespace kubes::scheduler {
namespace {

// status.startTime; a pod not started yet counts as starting now (upstream
// GetPodStartTime).
TimePoint StartTime(const Json& pod) {
  auto t = ParseRFC3339(StringAt(pod, {"status", "startTime"}));
  return t ? *t : RealClock::Get().Now();
}

// The earliest start among the victims of the highest priority (upstream
// GetEarliestPodStartTime). REQUIRES: !pods.empty()
TimePoint EarliestStartOfMostImportant(const std::vector<PodPtr>& pods) {
  int64_t max_priority = PodPriority(*pods.front());
  TimePoint earliest = StartTime(*pods.front());
  for (const PodPtr& p : pods) {
    int64_t priority = PodPriority(*p);
    if (priority == max_priority) {
      earliest = std::min(earliest, StartTime(*p));
    } else if (priority > max_priority) {
      max_priority = priority;
      earliest = StartTime(*p);
    }
  }
  return earliest;
}

const PluginStatus* StatusOf(const PreemptionInputs& in, const std::string& node) {
  if (in.node_to_status) {
    auto it = in.node_to_status->find(node);
    if (it != in.node_to_status->end()) return &it->second;
  }
  return in.absent;
}

// Whether the pod may preempt at all (upstream PodEligibleToPreemptOthers); the
// reason when not.
std::optional<std::string> NotEligibleReason(const Json& pod, const std::vector<NodeInfo>& nodes,
                                             const PreemptionInputs& in) {
  if (StringAt(pod, {"spec", "preemptionPolicy"}) == "Never") return kNotEligiblePolicyNever;
  std::string nominated = StringAt(pod, {"status", "nominatedNodeName"});
  if (nominated.empty()) return std::nullopt;
  // Nothing on the nominated node can help any more: look elsewhere.
  const PluginStatus* status = StatusOf(in, nominated);
  if (status && status->code == PluginStatus::Code::kUnschedulableAndUnresolvable) return std::nullopt;
  int64_t priority = PodPriority(pod);
  for (const NodeInfo& node : nodes) {
    if (node.name() != nominated) continue;
    // Victims of an earlier preemption are still going: wait for them, do not pick more.
    for (const PodPtr& p : node.pods()) {
      if (PodPriority(*p) < priority && PodTerminatingByPreemption(*p)) return kNotEligibleTerminating;
    }
  }
  return std::nullopt;
}

}  // namespace

int64_t PodPriority(const Json& pod) {
  const Json& p = At(pod, {"spec", "priority"});
  return p.is_number_integer() ? p.get<int64_t>() : 0;
}

bool MoreImportantPod(const Json& a, const Json& b) {
  int64_t pa = PodPriority(a), pb = PodPriority(b);
  if (pa != pb) return pa > pb;
  return StartTime(a) < StartTime(b);
}

bool PodTerminatingByPreemption(const Json& pod) {
  if (At(pod, {"metadata", "deletionTimestamp"}).is_null()) return false;
  for (const Json& c : ArrayAt(pod, {"status", "conditions"})) {
    if (StringAt(c, {"type"}) == "DisruptionTarget") {
      return StringAt(c, {"status"}) == "True" && StringAt(c, {"reason"}) == kReasonPreemptionByScheduler;
    }
  }
  return false;
}

PluginStatus RunFilterPluginsWithNominatedPods(const Json& pod, const NodeInfo& node, const NominatedPods& nominated,
                                               const PodVolumes& volumes) {
  // First with the nominated pods that outrank or equal the pod, as if they ran there.
  auto it = nominated.find(node.name());
  if (it != nominated.end()) {
    NodeInfo with = node;
    bool added = false;
    int64_t priority = PodPriority(pod);
    std::string uid = PodUID(pod);
    for (const PodPtr& p : it->second) {
      if (PodPriority(*p) >= priority && PodUID(*p) != uid) {
        with.AddPod(p);
        added = true;
      }
    }
    if (added) {
      PluginStatus s = RunFilterPlugins(pod, with, volumes);
      if (!s.ok()) return s;
    }
  }
  // Then without them: some filters (not kubes' yet) could pass only thanks to them.
  return RunFilterPlugins(pod, node, volumes);
}

void FilterPodsWithPDBViolation(const std::vector<PodPtr>& pods, const std::vector<Json>& pdbs,
                                std::vector<PodPtr>* violating, std::vector<PodPtr>* non_violating) {
  std::vector<int64_t> allowed;
  std::vector<std::optional<labels::Selector>> selectors;
  for (const Json& pdb : pdbs) {
    const Json& n = At(pdb, {"status", "disruptionsAllowed"});
    allowed.push_back(n.is_number_integer() ? n.get<int64_t>() : 0);
    auto sel = labels::SelectorFromLabelSelector(At(pdb, {"spec", "selector"}));
    // An invalid selector matches nothing; so does an empty or missing one.
    if (sel.ok() && !sel->Empty()) selectors.emplace_back(std::move(*sel));
    else selectors.emplace_back(std::nullopt);
  }
  for (const PodPtr& p : pods) {
    bool violated = false;
    const Json& pod_labels = At(*p, {"metadata", "labels"});
    if (pod_labels.is_object() && !pod_labels.empty()) {
      labels::Labels l;
      for (const auto& [k, v] : pod_labels.items()) {
        if (v.is_string()) l[k] = v.get<std::string>();
      }
      std::string ns = StringAt(*p, {"metadata", "namespace"});
      std::string name = StringAt(*p, {"metadata", "name"});
      for (size_t i = 0; i < pdbs.size(); ++i) {
        if (StringAt(pdbs[i], {"metadata", "namespace"}) != ns) continue;
        if (!selectors[i] || !selectors[i]->Matches(l)) continue;
        // The apiserver already let this pod go (an eviction in progress): not again.
        const Json& disrupted = At(pdbs[i], {"status", "disruptedPods"});
        if (disrupted.is_object() && disrupted.contains(name)) continue;
        if (--allowed[i] < 0) violated = true;
      }
    }
    (violated ? violating : non_violating)->push_back(p);
  }
}

NodeVictims SelectVictimsOnNode(const Json& pod, NodeInfo node, const std::vector<Json>& pdbs,
                                const NominatedPods& nominated, const PodVolumes& volumes) {
  // Remove every pod of lower priority; the pod has to fit without all of them.
  int64_t priority = PodPriority(pod);
  std::vector<PodPtr> potential;
  for (const PodPtr& p : node.pods()) {
    if (PodPriority(*p) < priority) potential.push_back(p);
  }
  if (potential.empty()) return {{}, PluginStatus::Unresolvable(kReasonNoVictims)};
  for (const PodPtr& p : potential) node.RemovePod(PodUID(*p));
  if (PluginStatus s = RunFilterPluginsWithNominatedPods(pod, node, nominated, volumes); !s.ok()) return {{}, s};

  // Give back as many as possible, most important first; the ones a budget protects
  // get their chance before the others.
  std::stable_sort(potential.begin(), potential.end(),
                   [](const PodPtr& a, const PodPtr& b) { return MoreImportantPod(*a, *b); });
  std::vector<PodPtr> violating, non_violating;
  FilterPodsWithPDBViolation(potential, pdbs, &violating, &non_violating);
  NodeVictims out;
  auto reprieve = [&](const PodPtr& p) {
    node.AddPod(p);
    if (RunFilterPluginsWithNominatedPods(pod, node, nominated, volumes).ok()) return true;
    node.RemovePod(PodUID(*p));
    out.victims.pods.push_back(p);
    return false;
  };
  for (const PodPtr& p : violating) {
    if (!reprieve(p)) ++out.victims.num_pdb_violations;
  }
  for (const PodPtr& p : non_violating) reprieve(p);
  if (!violating.empty() && !non_violating.empty()) {
    std::stable_sort(out.victims.pods.begin(), out.victims.pods.end(),
                     [](const PodPtr& a, const PodPtr& b) { return MoreImportantPod(*a, *b); });
  }
  return out;
}

std::string PickOneNodeForPreemption(const std::map<std::string, Victims>& candidates) {
  if (candidates.empty()) return "";
  using Score = int64_t (*)(const Victims&);
  static constexpr Score kScores[] = {
      // Fewest budgets violated.
      [](const Victims& v) -> int64_t { return -v.num_pdb_violations; },
      // The most important victim as unimportant as possible.
      [](const Victims& v) -> int64_t { return -PodPriority(*v.pods.front()); },
      // The smallest sum of priorities, each shifted to be >= 0 so that many negative
      // priorities do not beat a few of the same.
      [](const Victims& v) -> int64_t {
        int64_t sum = 0;
        for (const PodPtr& p : v.pods) sum += PodPriority(*p) + (int64_t{INT32_MAX} + 1);
        return -sum;
      },
      // The fewest victims.
      [](const Victims& v) -> int64_t { return -static_cast<int64_t>(v.pods.size()); },
      // The most important victims started last (they lose the least work).
      [](const Victims& v) -> int64_t {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   EarliestStartOfMostImportant(v.pods).time_since_epoch())
            .count();
      },
  };
  std::vector<const std::pair<const std::string, Victims>*> left;
  for (const auto& entry : candidates) left.push_back(&entry);
  for (Score score : kScores) {
    int64_t best = INT64_MIN;
    std::vector<const std::pair<const std::string, Victims>*> kept;
    for (const auto* c : left) {
      int64_t s = score(c->second);
      if (s > best) {
        best = s;
        kept.clear();
      }
      if (s == best) kept.push_back(c);
    }
    if (kept.size() == 1) return kept.front()->first;
    left = std::move(kept);
  }
  return left.front()->first;  // still tied: the first (by name here)
}

PostFilterResult Preempt(const Json& pod, const std::vector<NodeInfo>& nodes, const PreemptionInputs& in) {
  if (auto reason = NotEligibleReason(pod, nodes, in)) return {std::nullopt, false, "preemption: " + *reason};
  static const NominatedPods kNoNominated;
  static const std::vector<Json> kNoPdbs;
  static const PodVolumes kNoVolumes;
  const NominatedPods& nominated = in.nominated ? *in.nominated : kNoNominated;
  const std::vector<Json>& pdbs = in.pdbs ? *in.pdbs : kNoPdbs;
  const PodVolumes& volumes = in.volumes ? *in.volumes : kNoVolumes;

  // Dry run on every node whose failure evicting pods could resolve. (Upstream stops
  // after max(10% of them, 100) candidates; kubes' clusters are smaller than that.)
  std::map<std::string, Victims> candidates;
  Diagnosis dry_run;
  dry_run.absent_nodes_status = PluginStatus::Unresolvable(kReasonNotHelpful);
  for (const NodeInfo& node : nodes) {
    const PluginStatus* status = StatusOf(in, node.name());
    if (!status || status->code != PluginStatus::Code::kUnschedulable) continue;
    NodeVictims nv = SelectVictimsOnNode(pod, node, pdbs, nominated, volumes);
    if (nv.status.ok() && nv.victims.pods.empty()) {
      nv.status = PluginStatus::Unresolvable("expected at least one victim pod on node \"" + node.name() + "\"");
    }
    if (nv.status.ok()) candidates[node.name()] = std::move(nv.victims);
    else dry_run.node_to_status[node.name()] = std::move(nv.status);
  }
  if (candidates.empty()) {
    return {std::nullopt, true, "preemption: " + FitErrorMessage(nodes.size(), dry_run)};
  }
  std::string chosen = PickOneNodeForPreemption(candidates);
  return {Candidate{chosen, std::move(candidates[chosen])}, false, ""};
}

}  // namespace kubes::scheduler
