// NodeAffinity (upstream plugins/nodeaffinity, with the node selector matching of
// k8s.io/component-helpers/scheduling/corev1/nodeaffinity).
//
// A pod limits where it may run with spec.nodeSelector (every label must be equal) and
// affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution: a list of
// terms, any of which may match; within a term every matchExpressions entry (on
// labels: In, NotIn, Exists, DoesNotExist, Gt, Lt) and every matchFields entry (on the
// field metadata.name: In, NotIn with one value) must hold. A term that is empty or
// that cannot be parsed matches no node. preferredDuringScheduling terms add their
// weight to the score of the nodes they match.
#include <map>

#include "apimachinery/labels/selector.h"
#include "scheduler/framework/plugins/plugins.h"

namespace kubes::scheduler {
namespace {

const std::map<std::string, labels::Operator>& Operators() {
  static const std::map<std::string, labels::Operator> m = {
      {"In", labels::Operator::kIn},         {"NotIn", labels::Operator::kNotIn},
      {"Exists", labels::Operator::kExists}, {"DoesNotExist", labels::Operator::kDoesNotExist},
      {"Gt", labels::Operator::kGreaterThan}, {"Lt", labels::Operator::kLessThan}};
  return m;
}

std::vector<std::string> Strings(const Json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const Json& v : list) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

labels::Labels NodeLabels(const Json& node) {
  labels::Labels out;
  const Json& l = At(node, {"metadata", "labels"});
  if (!l.is_object()) return out;
  for (const auto& [k, v] : l.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

bool IsEmptyTerm(const Json& term) {
  return ArrayAt(term, {"matchExpressions"}).empty() && ArrayAt(term, {"matchFields"}).empty();
}

// One matchFields entry: only metadata.name exists as a field; In and NotIn take one value.
std::optional<bool> MatchField(const Json& req, const std::string& node_name) {
  std::vector<std::string> values = Strings(At(req, {"values"}));
  std::string op = StringAt(req, {"operator"});
  if (values.size() != 1 || (op != "In" && op != "NotIn")) return std::nullopt;  // unparseable
  std::string have = StringAt(req, {"key"}) == "metadata.name" ? node_name : "";
  return (have == values[0]) == (op == "In");
}

// nullopt when the term cannot be parsed (upstream: a term with parse errors never matches).
std::optional<bool> MatchTerm(const Json& term, const labels::Labels& node_labels, const std::string& node_name) {
  bool matches = true;
  for (const Json& req : ArrayAt(term, {"matchExpressions"})) {
    auto op = Operators().find(StringAt(req, {"operator"}));
    if (op == Operators().end()) return std::nullopt;
    auto r = labels::Requirement::New(StringAt(req, {"key"}), op->second, Strings(At(req, {"values"})));
    if (!r.ok()) return std::nullopt;
    matches = matches && r->Matches(node_labels);
  }
  for (const Json& req : ArrayAt(term, {"matchFields"})) {
    auto m = MatchField(req, node_name);
    if (!m) return std::nullopt;
    matches = matches && *m;
  }
  return matches;
}

const Json& RequiredTerms(const Json& pod) {
  return At(pod, {"spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"});
}

}  // namespace

NodeAffinityPreFilterResult NodeAffinityPreFilter(const Json& pod) {
  const Json& required = RequiredTerms(pod);
  if (!required.is_object()) return {};
  std::optional<std::set<std::string>> names;
  for (const Json& term : ArrayAt(required, {"nodeSelectorTerms"})) {
    // The nodes this term names (matchFields metadata.name In are ANDed: intersect).
    std::optional<std::set<std::string>> term_names;
    for (const Json& req : ArrayAt(term, {"matchFields"})) {
      if (StringAt(req, {"key"}) != "metadata.name" || StringAt(req, {"operator"}) != "In") continue;
      std::vector<std::string> v = Strings(At(req, {"values"}));
      std::set<std::string> s(v.begin(), v.end());
      if (!term_names) {
        term_names = s;
        continue;
      }
      std::set<std::string> both;
      for (const auto& n : *term_names) {
        if (s.count(n)) both.insert(n);
      }
      term_names = both;
    }
    if (!term_names) return {};  // a term open to any node: terms are ORed
    if (!names) names.emplace();
    names->insert(term_names->begin(), term_names->end());
  }
  if (names && names->empty()) return {PluginStatus::Unresolvable(kErrReasonAffinityConflict), std::nullopt};
  return {PluginStatus::Success(), names};
}

bool RequiredNodeAffinityMatches(const Json& pod, const Json& node) {
  labels::Labels node_labels = NodeLabels(node);
  const Json& selector = At(pod, {"spec", "nodeSelector"});
  if (selector.is_object()) {
    for (const auto& [k, v] : selector.items()) {
      auto it = node_labels.find(k);
      if (it == node_labels.end() || !v.is_string() || it->second != v.get<std::string>()) return false;
    }
  }
  const Json& required = RequiredTerms(pod);
  if (!required.is_object()) return true;
  return NodeSelectorMatches(required, node);
}

bool NodeSelectorMatches(const Json& node_selector, const Json& node) {
  labels::Labels node_labels = NodeLabels(node);
  std::string name = StringAt(node, {"metadata", "name"});
  for (const Json& term : ArrayAt(node_selector, {"nodeSelectorTerms"})) {
    if (IsEmptyTerm(term)) continue;
    if (MatchTerm(term, node_labels, name).value_or(false)) return true;
  }
  return false;
}

PluginStatus NodeAffinityFilter(const Json& pod, const NodeInfo& node) {
  if (RequiredNodeAffinityMatches(pod, node.node())) return PluginStatus::Success();
  return PluginStatus::Unresolvable(kErrReasonNodeAffinity);
}

// Upstream refuses to score a pod with an unparseable preferred term (validation keeps
// such pods out); here such a term just adds nothing.
int64_t NodeAffinityScore(const Json& pod, const NodeInfo& node) {
  const Json& preferred =
      At(pod, {"spec", "affinity", "nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution"});
  if (!preferred.is_array()) return 0;
  labels::Labels node_labels = NodeLabels(node.node());
  std::string name = node.name();
  int64_t score = 0;
  for (const Json& p : preferred) {
    const Json& weight = At(p, {"weight"});
    const Json& term = At(p, {"preference"});
    // Validation allows weights 1-100; anything else is ignored rather than trusted.
    if (!weight.is_number_integer() || weight.get<int64_t>() < 1 || weight.get<int64_t>() > 100) continue;
    if (IsEmptyTerm(term)) continue;
    if (MatchTerm(term, node_labels, name).value_or(false)) score += weight.get<int64_t>();
  }
  return score;
}

}  // namespace kubes::scheduler
