// NodeName (upstream plugins/nodename): a pod that names its node fits only there.
// The scheduler never sees such pods (they are bound already); the filter is kept so
// the plugin list reads like upstream's.
#include "scheduler/framework/plugins/plugins.h"

namespace kubes::scheduler {

PluginStatus NodeNameFilter(const Json& pod, const NodeInfo& node) {
  std::string wanted = StringAt(pod, {"spec", "nodeName"});
  if (wanted.empty() || wanted == node.name()) return PluginStatus::Success();
  return PluginStatus::Unresolvable(kErrReasonNodeName);
}

}  // namespace kubes::scheduler
