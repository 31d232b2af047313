// HorizontalPodAutoscaler between autoscaling/v1 and autoscaling/v2, the version it is
// stored in (upstream: pkg/apis/autoscaling/v1/conversion.go).
//
// v1 knows only a CPU target: spec.targetCPUUtilizationPercentage and
// status.currentCPUUtilizationPercentage. Everything else a v2 object holds travels in
// annotations of the v1 object, as upstream does, so that a v1 client that reads,
// changes and writes back an object loses nothing:
//   autoscaling.alpha.kubernetes.io/metrics          the other metrics (v1's MetricSpec)
//   autoscaling.alpha.kubernetes.io/current-metrics  their current values (MetricStatus)
//   autoscaling.alpha.kubernetes.io/conditions       status.conditions
//   autoscaling.alpha.kubernetes.io/behavior         spec.behavior
// Reading v1 writes them; writing v1 reads them and removes them again.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

namespace kubes::apiserver {

using Json = nlohmann::json;

// A stored (v2) object as autoscaling/v1 shows it.
Json HorizontalPodAutoscalerToV1(const Json& v2);
// An autoscaling/v1 object as it is stored (v2). A v1 object without a CPU target gets
// the default one (80%), as v2's defaulting gives an object without metrics.
Json HorizontalPodAutoscalerToV2(const Json& v1);

}  // namespace kubes::apiserver
