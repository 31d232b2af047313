// TaintToleration (upstream plugins/tainttoleration and the v1 Toleration helpers).
// A taint keeps pods away from a node unless they tolerate it: NoSchedule and
// NoExecute taints filter the node out; PreferNoSchedule ones only lower its score.
// The node lifecycle controller taints nodes that are not ready
// (node.kubernetes.io/not-ready), so they are filtered here like any other taint.
#include "scheduler/framework/plugins/plugins.h"

namespace kubes::scheduler {

bool ToleratesTaint(const Json& toleration, const Json& taint) {
  std::string effect = StringAt(toleration, {"effect"});
  if (!effect.empty() && effect != StringAt(taint, {"effect"})) return false;
  std::string key = StringAt(toleration, {"key"});
  if (!key.empty() && key != StringAt(taint, {"key"})) return false;
  std::string op = StringAt(toleration, {"operator"});
  if (op == "Exists") return true;
  if (op.empty() || op == "Equal") return StringAt(toleration, {"value"}) == StringAt(taint, {"value"});
  return false;
}

bool TolerationsTolerateTaint(const Json& tolerations, const Json& taint) {
  if (!tolerations.is_array()) return false;
  for (const Json& t : tolerations) {
    if (ToleratesTaint(t, taint)) return true;
  }
  return false;
}

PluginStatus TaintTolerationFilter(const Json& pod, const NodeInfo& node) {
  const Json& tolerations = At(pod, {"spec", "tolerations"});
  for (const Json& taint : ArrayAt(node.node(), {"spec", "taints"})) {
    std::string effect = StringAt(taint, {"effect"});
    if (effect != "NoSchedule" && effect != "NoExecute") continue;
    if (TolerationsTolerateTaint(tolerations, taint)) continue;
    return PluginStatus::Unresolvable("node(s) had untolerated taint {" + StringAt(taint, {"key"}) + ": " +
                                      StringAt(taint, {"value"}) + "}");
  }
  return PluginStatus::Success();
}

int64_t TaintTolerationScore(const Json& pod, const NodeInfo& node) {
  // Only tolerations that can apply to PreferNoSchedule taints count here.
  Json prefer = Json::array();
  for (const Json& t : ArrayAt(pod, {"spec", "tolerations"})) {
    std::string effect = StringAt(t, {"effect"});
    if (effect.empty() || effect == "PreferNoSchedule") prefer.push_back(t);
  }
  int64_t intolerable = 0;
  for (const Json& taint : ArrayAt(node.node(), {"spec", "taints"})) {
    if (StringAt(taint, {"effect"}) != "PreferNoSchedule") continue;
    if (!TolerationsTolerateTaint(prefer, taint)) ++intolerable;
  }
  return intolerable;
}

}  // namespace kubes::scheduler
