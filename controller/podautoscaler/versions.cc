#include "controller/podautoscaler/versions.h"

namespace kubes::controller::podautoscaler {
namespace {

Json CPUUtilizationMetric(const Json& target) {
  return {{"type", "Resource"},
          {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", target}}}}}};
}

}  // namespace

bool IsV1(const Json& hpa) { return hpa.value("apiVersion", "") == "autoscaling/v1"; }

Json SpecToV2(const Json& hpa) {
  Json spec = hpa.value("spec", Json::object());
  if (!spec.is_object()) spec = Json::object();
  if (IsV1(hpa)) {
    Json target = spec.value("targetCPUUtilizationPercentage", Json(kDefaultCPUUtilization));
    spec.erase("targetCPUUtilizationPercentage");
    spec["metrics"] = Json::array({CPUUtilizationMetric(target)});
    return spec;
  }
  if (!spec.contains("metrics") || !spec["metrics"].is_array() || spec["metrics"].empty()) {
    spec["metrics"] = Json::array({CPUUtilizationMetric(kDefaultCPUUtilization)});
  }
  return spec;
}

Json StatusToV2(const Json& hpa) {
  Json status = hpa.value("status", Json::object());
  if (!status.is_object()) status = Json::object();
  if (!IsV1(hpa)) return status;
  Json out = Json::object();
  for (const char* f : {"observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"}) {
    if (status.contains(f)) out[f] = status[f];
  }
  if (status.contains("currentCPUUtilizationPercentage")) {
    out["currentMetrics"] = Json::array(
        {{{"type", "Resource"},
          {"resource",
           {{"name", "cpu"}, {"current", {{"averageUtilization", status["currentCPUUtilizationPercentage"]}}}}}}});
  }
  return out;
}

Json StatusForVersion(const Json& status_v2, bool v1) {
  if (!v1) return status_v2;
  Json out = Json::object();
  for (const char* f : {"observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"}) {
    if (status_v2.contains(f)) out[f] = status_v2[f];
  }
  // The first CPU utilization read, as upstream's conversion picks it.
  for (const auto& m : status_v2.value("currentMetrics", Json::array())) {
    if (m.value("type", "") != "Resource") continue;
    const Json& r = m.value("resource", Json::object());
    if (r.value("name", "") == "cpu" && r.value("current", Json::object()).contains("averageUtilization")) {
      out["currentCPUUtilizationPercentage"] = r["current"]["averageUtilization"];
      break;
    }
  }
  return out;
}

}  // namespace kubes::controller::podautoscaler
