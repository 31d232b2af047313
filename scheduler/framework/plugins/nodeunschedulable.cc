// NodeUnschedulable (upstream plugins/nodeunschedulable): a cordoned node
// (`kubectl cordon`: spec.unschedulable) takes no new pods, except pods that tolerate
// the node.kubernetes.io/unschedulable:NoSchedule taint (DaemonSet pods do).
#include "scheduler/framework/plugins/plugins.h"

namespace kubes::scheduler {

PluginStatus NodeUnschedulableFilter(const Json& pod, const NodeInfo& node) {
  const Json& unschedulable = At(node.node(), {"spec", "unschedulable"});
  if (!unschedulable.is_boolean() || !unschedulable.get<bool>()) return PluginStatus::Success();
  static const Json kTaint = {{"key", "node.kubernetes.io/unschedulable"}, {"effect", "NoSchedule"}};
  if (TolerationsTolerateTaint(At(pod, {"spec", "tolerations"}), kTaint)) return PluginStatus::Success();
  return PluginStatus::Unresolvable(kErrReasonUnschedulable);
}

}  // namespace kubes::scheduler
