#include "apiserver/registry/autoscaling_conversion.h"

#include <cctype>
#include <string>

namespace kubes::apiserver {
namespace {

constexpr const char* kMetricsAnnotation = "autoscaling.alpha.kubernetes.io/metrics";
constexpr const char* kCurrentMetricsAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics";
constexpr const char* kConditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions";
constexpr const char* kBehaviorAnnotation = "autoscaling.alpha.kubernetes.io/behavior";
constexpr int kDefaultCPUUtilization = 80;

// Copies field `from` of src to field `to` of dst when src has it.
void Move(const Json& src, const char* from, Json& dst, const char* to) {
  if (src.is_object() && src.contains(from) && !src[from].is_null()) dst[to] = src[from];
}

Json Object(const Json& parent, const char* field) {
  if (!parent.is_object()) return Json::object();
  auto it = parent.find(field);
  return it != parent.end() && it->is_object() ? *it : Json::object();
}

Json Array(const Json& parent, const char* field) {
  if (!parent.is_object()) return Json::array();
  auto it = parent.find(field);
  return it != parent.end() && it->is_array() ? *it : Json::array();
}

// ---- metrics: v2 MetricSpec/MetricStatus ↔ v1's (the annotations' items) ----
//
// The two versions hold the same facts under other names. v2 nests the values in
// `target` (spec) or `current` (status) — averageUtilization, averageValue, value — and
// the metric in `metric` {name, selector}; v1 flattens them: targetAverageValue,
// currentValue, metricName, … (an Object metric's averageValue keeps its name, and an
// External metric's selector is metricSelector).

// "resource" for "Resource", "containerResource" for "ContainerResource", …
std::string SourceField(std::string type) {
  if (!type.empty()) type[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(type[0])));
  return type;
}

// v1's name of a v2 value field on side "target" or "current".
std::string V1ValueName(const std::string& type, const std::string& side, const std::string& field) {
  if (type == "Object" && field == "averageValue") return field;
  std::string up = field;
  up[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(up[0])));
  return side + up;
}

constexpr const char* kValueFields[] = {"averageUtilization", "averageValue", "value"};

Json MetricToV1(const Json& m, const std::string& side) {
  std::string type = m.value("type", "");
  Json out = {{"type", type}};
  if (type.empty()) return out;
  Json src = Object(m, SourceField(type).c_str());
  Json r = Json::object();
  Move(src, "name", r, "name");
  Move(src, "container", r, "container");
  Move(src, "describedObject", r, "target");
  Move(Object(src, "metric"), "name", r, "metricName");
  Move(Object(src, "metric"), "selector", r, type == "External" ? "metricSelector" : "selector");
  Json values = Object(src, side.c_str());
  for (const char* f : kValueFields) Move(values, f, r, V1ValueName(type, side, f).c_str());
  out[SourceField(type)] = r;
  return out;
}

// spec: a target also names its type (Utilization, AverageValue or Value).
Json MetricToV2(const Json& m, const std::string& side, bool spec) {
  std::string type = m.value("type", "");
  Json out = {{"type", type}};
  if (type.empty()) return out;
  Json src = Object(m, SourceField(type).c_str());
  Json r = Json::object();
  Move(src, "name", r, "name");
  Move(src, "container", r, "container");
  Move(src, "target", r, "describedObject");
  if (type == "Pods" || type == "Object" || type == "External") {
    Json metric = Json::object();
    Move(src, "metricName", metric, "name");
    Move(src, type == "External" ? "metricSelector" : "selector", metric, "selector");
    r["metric"] = metric;
  }
  Json values = Json::object();
  for (const char* f : kValueFields) Move(src, V1ValueName(type, side, f).c_str(), values, f);
  if (spec && !values.empty()) {
    values["type"] = values.contains("averageUtilization") ? "Utilization"
                     : values.contains("averageValue")     ? "AverageValue"
                                                           : "Value";
  }
  r[side] = values;
  out[SourceField(type)] = r;
  return out;
}

// v2 metrics (side "target") or their statuses ("current") as v1 holds them: the first
// CPU utilization in *cpu (v1's targetCPUUtilizationPercentage and
// currentCPUUtilizationPercentage), the others returned in v1's shape.
Json SplitCPU(const Json& list, const std::string& side, Json* cpu) {
  Json others = Json::array();
  for (const auto& m : list) {
    Json r = Object(m, "resource");
    Json values = Object(r, side.c_str());
    bool is_cpu = cpu->is_null() && m.value("type", "") == "Resource" && r.value("name", "") == "cpu" &&
                  values.contains("averageUtilization") &&
                  (side == "current" || values.value("type", "") == "Utilization");
    if (is_cpu) *cpu = values["averageUtilization"];
    else others.push_back(MetricToV1(m, side));
  }
  return others;
}

// The reverse: v1's annotation items (may be null), then the CPU utilization (may be
// null), as v2 metrics or statuses.
Json JoinCPU(const Json& others, const std::string& side, const Json& cpu) {
  Json out = Json::array();
  if (others.is_array()) {
    for (const auto& m : others) out.push_back(MetricToV2(m, side, side == "target"));
  }
  if (!cpu.is_null()) {
    Json values = {{"averageUtilization", cpu}};
    if (side == "target") values["type"] = "Utilization";
    out.push_back({{"type", "Resource"}, {"resource", {{"name", "cpu"}, {side, values}}}});
  }
  return out;
}

// An annotation holding JSON: its parsed value, or null when absent or not JSON.
Json ParsedAnnotation(const Json& annotations, const char* key) {
  if (!annotations.is_object() || !annotations.contains(key) || !annotations[key].is_string()) return Json();
  Json v = Json::parse(annotations[key].get<std::string>(), nullptr, false);
  return v.is_discarded() ? Json() : v;
}

}  // namespace

Json HorizontalPodAutoscalerToV1(const Json& v2) {
  Json out = v2;
  out["apiVersion"] = "autoscaling/v1";
  Json spec = Object(v2, "spec");
  Json status = Object(v2, "status");
  Json annotations = Object(Object(v2, "metadata"), "annotations");

  Json v1_spec = Json::object();
  for (const char* f : {"scaleTargetRef", "minReplicas", "maxReplicas"}) Move(spec, f, v1_spec, f);
  Json cpu;
  Json others = SplitCPU(Array(spec, "metrics"), "target", &cpu);
  if (!cpu.is_null()) v1_spec["targetCPUUtilizationPercentage"] = cpu;
  if (!others.empty()) annotations[kMetricsAnnotation] = others.dump();
  if (spec.contains("behavior") && !spec["behavior"].is_null()) annotations[kBehaviorAnnotation] = spec["behavior"].dump();
  out["spec"] = v1_spec;

  if (v2.contains("status")) {
    Json v1_status = Json::object();
    for (const char* f : {"observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"}) {
      Move(status, f, v1_status, f);
    }
    Json cpu_current;
    Json current = SplitCPU(Array(status, "currentMetrics"), "current", &cpu_current);
    if (!cpu_current.is_null()) v1_status["currentCPUUtilizationPercentage"] = cpu_current;
    if (!current.empty()) annotations[kCurrentMetricsAnnotation] = current.dump();
    if (!Array(status, "conditions").empty()) annotations[kConditionsAnnotation] = status["conditions"].dump();
    out["status"] = v1_status;
  }
  if (!annotations.empty()) out["metadata"]["annotations"] = annotations;
  return out;
}

Json HorizontalPodAutoscalerToV2(const Json& v1) {
  Json out = v1;
  out["apiVersion"] = "autoscaling/v2";
  Json spec = Object(v1, "spec");
  Json status = Object(v1, "status");
  Json annotations = Object(Object(v1, "metadata"), "annotations");

  Json v2_spec = Json::object();
  for (const char* f : {"scaleTargetRef", "minReplicas", "maxReplicas"}) Move(spec, f, v2_spec, f);
  // The annotation's metrics first, then the CPU target (upstream's order).
  Json others = ParsedAnnotation(annotations, kMetricsAnnotation);
  Json cpu = spec.value("targetCPUUtilizationPercentage", Json());
  if (cpu.is_null() && !(others.is_array() && !others.empty())) cpu = kDefaultCPUUtilization;
  v2_spec["metrics"] = JoinCPU(others, "target", cpu);
  Json behavior = ParsedAnnotation(annotations, kBehaviorAnnotation);
  if (behavior.is_object()) v2_spec["behavior"] = behavior;
  out["spec"] = v2_spec;

  if (v1.contains("status")) {
    Json v2_status = Json::object();
    for (const char* f : {"observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"}) {
      Move(status, f, v2_status, f);
    }
    Json current = JoinCPU(ParsedAnnotation(annotations, kCurrentMetricsAnnotation), "current",
                           status.value("currentCPUUtilizationPercentage", Json()));
    if (!current.empty()) v2_status["currentMetrics"] = current;
    Json conditions = ParsedAnnotation(annotations, kConditionsAnnotation);
    if (conditions.is_array()) v2_status["conditions"] = conditions;
    out["status"] = v2_status;
  }
  for (const char* key : {kMetricsAnnotation, kCurrentMetricsAnnotation, kConditionsAnnotation, kBehaviorAnnotation}) {
    annotations.erase(key);
  }
  if (annotations.empty()) {
    if (out["metadata"].is_object()) out["metadata"].erase("annotations");
  } else {
    out["metadata"]["annotations"] = annotations;
  }
  return out;
}

}  // namespace kubes::apiserver
