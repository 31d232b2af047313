// autoscaling/v1 and autoscaling/v2 HorizontalPodAutoscalers seen as one shape
// (upstream: pkg/apis/autoscaling/v1/conversion.go and v2/defaults.go).
//
// The controller works on v2's shape: spec.metrics, spec.behavior, status.currentMetrics
// and status.conditions. kubes stores every object in the version it was written in and
// does not convert on read, so an HPA made by `kubectl autoscale` (which writes v1) is
// read as v1 even through the v2 endpoint. SpecToV2/StatusToV2 read either version;
// StatusForVersion writes a v2 status back in the object's own version, through that
// version's endpoint.
//
// Upstream keeps what v1 has no field for (conditions, the metrics beyond CPU) in
// annotations of the v1 object; a status write in kubes cannot change annotations, so a
// v1 HPA shows currentCPUUtilizationPercentage but not its conditions. Create the HPA
// as autoscaling/v2 to see them (`kubectl describe hpa`).
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

namespace kubes::controller::podautoscaler {

using Json = nlohmann::json;

// v1's default target when none is given, and v2's default metric.
inline constexpr int kDefaultCPUUtilization = 80;

bool IsV1(const Json& hpa);

// spec in v2's shape; an empty metrics list becomes the default CPU metric (80% of
// requests), as upstream's defaulting does.
Json SpecToV2(const Json& hpa);
// status in v2's shape.
Json StatusToV2(const Json& hpa);
// A v2 status in the shape of `v1 ? autoscaling/v1 : autoscaling/v2`.
Json StatusForVersion(const Json& status_v2, bool v1);

}  // namespace kubes::controller::podautoscaler
