// NodePorts (upstream plugins/nodeports): a container's hostPort binds that port on the
// node, so two pods asking for the same (hostIP, protocol, hostPort) cannot share a
// node. hostIP 0.0.0.0 (or empty) collides with every address. Only app containers
// count, as upstream.
#include "scheduler/framework/plugins/plugins.h"

namespace kubes::scheduler {

PluginStatus NodePortsFilter(const Json& pod, const NodeInfo& node) {
  for (const Json& c : ArrayAt(pod, {"spec", "containers"})) {
    for (const Json& p : ArrayAt(c, {"ports"})) {
      const Json& host_port = At(p, {"hostPort"});
      if (!host_port.is_number_integer()) continue;
      if (node.used_ports().CheckConflict(StringAt(p, {"hostIP"}), StringAt(p, {"protocol"}),
                                          host_port.get<int64_t>())) {
        // Preemption could free the port, so this is not "unresolvable".
        return PluginStatus::Unschedulable({kErrReasonNodePorts});
      }
    }
  }
  return PluginStatus::Success();
}

}  // namespace kubes::scheduler
