// VolumeBinding, reduced to what node-local volumes need (upstream:
// pkg/scheduler/framework/plugins/volumebinding). kubes' volumes are the local-path
// class's, bound WaitForFirstConsumer: a claim not yet bound goes with the pod to
// whichever node it is scheduled to (the local-path controller then makes its volume
// there), and a bound claim's volume lives on one node, named by the PersistentVolume's
// required node affinity — a pod using it can run only there.
#include "scheduler/framework/plugins/plugins.h"

namespace kubes::scheduler {

PluginStatus VolumeBindingPreFilter(const PodVolumes& volumes) {
  if (!volumes.unresolvable.empty()) return PluginStatus::Unresolvable(volumes.unresolvable);
  return PluginStatus::Success();
}

PluginStatus VolumeBindingFilter(const PodVolumes& volumes, const NodeInfo& node) {
  for (const Json& pv : volumes.bound) {
    const Json& required = At(pv, {"spec", "nodeAffinity", "required"});
    if (!required.is_object()) continue;  // a volume every node reaches
    if (!NodeSelectorMatches(required, node.node())) {
      return PluginStatus::Unresolvable(kErrReasonVolumeNodeAffinityConflict);
    }
  }
  return PluginStatus::Success();
}

}  // namespace kubes::scheduler
