// Columns of the HorizontalPodAutoscaler (upstream printers.go:
// printHorizontalPodAutoscaler, formatHPAMetrics).
//
// autoscaling/v1 and autoscaling/v2 are two versions of one kind. Upstream converts
// both to the internal (v2-shaped) object before printing, so a v1 HPA's
// targetCPUUtilizationPercentage reads as a CPU Resource metric, and a v1 HPA with no
// target as the 80% CPU default the v1 conversion fills in. This printer does the same
// on whichever shape it is given.
#include "apiserver/printers/printers.h"

namespace kubes::apiserver {
namespace {

using namespace printers;

constexpr int64_t kDefaultCPUUtilization = 80;

// *resource.Quantity String(): "<nil>" when absent.
std::string QuantityPtr(const Json& q) { return Has(q) ? Quantity(q) : "<nil>"; }

std::string Percent(int64_t v) { return std::to_string(v) + "%"; }

// spec.metrics, or the metric a v1 object stands for.
Json SpecMetrics(const Json& spec) {
  if (Has(Get(spec, "metrics"))) return Items(Get(spec, "metrics"));
  const Json& cpu = Get(spec, "targetCPUUtilizationPercentage");
  int64_t target = Has(cpu) ? Int(cpu) : kDefaultCPUUtilization;
  return Json::array({{{"type", "Resource"},
                       {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", target}}}}}}});
}

// status.currentMetrics, or the one a v1 object's currentCPUUtilizationPercentage stands for.
Json StatusMetrics(const Json& spec, const Json& status) {
  if (Has(Get(spec, "metrics")) || Has(Get(status, "currentMetrics"))) return Items(Get(status, "currentMetrics"));
  const Json& cpu = Get(status, "currentCPUUtilizationPercentage");
  if (!Has(cpu)) return Json::array();
  return Json::array(
      {{{"type", "Resource"}, {"resource", {{"name", "cpu"}, {"current", {{"averageUtilization", Int(cpu)}}}}}}});
}

// One metric of an Object or External source: "current/target", "(avg)" for averages.
std::string ValueMetric(const Json& source, const Json& status_source) {
  const Json& target = Get(source, "target");
  if (Has(Get(target, "averageValue"))) {
    std::string current = "<unknown>";
    if (Has(Get(status_source, "current", "averageValue"))) current = Quantity(Get(status_source, "current", "averageValue"));
    return current + "/" + Quantity(Get(target, "averageValue")) + " (avg)";
  }
  std::string current = Has(status_source) ? QuantityPtr(Get(status_source, "current", "value")) : "<unknown>";
  return current + "/" + QuantityPtr(Get(target, "value"));
}

// One metric of a Resource or ContainerResource source: "cpu: 40%/80%".
std::string ResourceMetric(const Json& source, const Json& status_source) {
  const std::string name = Str(Get(source, "name"));
  const Json& target = Get(source, "target");
  if (Has(Get(target, "averageValue"))) {
    std::string current = Has(status_source) ? QuantityPtr(Get(status_source, "current", "averageValue")) : "<unknown>";
    return name + ": " + current + "/" + Quantity(Get(target, "averageValue"));
  }
  std::string current = "<unknown>";
  if (Has(Get(status_source, "current", "averageUtilization"))) {
    current = Percent(Int(Get(status_source, "current", "averageUtilization")));
  }
  std::string goal = "<auto>";
  if (Has(Get(target, "averageUtilization"))) goal = Percent(Int(Get(target, "averageUtilization")));
  return name + ": " + current + "/" + goal;
}

// TARGETS: at most two metrics, then " + N more...". Status entries are matched to
// spec entries by position, as upstream does.
std::string FormatHPAMetrics(const Json& specs, const Json& statuses) {
  if (specs.empty()) return "<none>";
  static const Json kNoStatus;
  std::vector<std::string> list;
  for (size_t i = 0; i < specs.size(); ++i) {
    const Json& spec = specs[i];
    const Json& status = i < statuses.size() ? statuses[i] : kNoStatus;
    std::string type = Str(Get(spec, "type"));
    if (type == "External") {
      list.push_back(ValueMetric(Get(spec, "external"), Get(status, "external")));
    } else if (type == "Object") {
      list.push_back(ValueMetric(Get(spec, "object"), Get(status, "object")));
    } else if (type == "Pods") {
      std::string current = Has(Get(status, "pods")) ? QuantityPtr(Get(status, "pods", "current", "averageValue")) : "<unknown>";
      list.push_back(current + "/" + QuantityPtr(Get(spec, "pods", "target", "averageValue")));
    } else if (type == "Resource") {
      list.push_back(ResourceMetric(Get(spec, "resource"), Get(status, "resource")));
    } else if (type == "ContainerResource") {
      list.push_back(ResourceMetric(Get(spec, "containerResource"), Get(status, "containerResource")));
    } else {
      list.push_back("<unknown type>");
    }
  }
  constexpr size_t kMax = 2;
  if (list.size() <= kMax) return Join(list, ", ");
  size_t more = list.size() - kMax;
  list.resize(kMax);
  return Join(list, ", ") + " + " + std::to_string(more) + " more...";
}

Json HorizontalPodAutoscalerRow(const Json& o, TimePoint now) {
  const Json& spec = Get(o, "spec");
  const Json& status = Get(o, "status");
  std::string reference = Str(Get(spec, "scaleTargetRef", "kind")) + "/" + Str(Get(spec, "scaleTargetRef", "name"));
  const Json& min = Get(spec, "minReplicas");
  return Json::array({Name(o), reference, FormatHPAMetrics(SpecMetrics(spec), StatusMetrics(spec, status)),
                      Has(min) ? std::to_string(Int(min)) : "<unset>", Int(Get(spec, "maxReplicas")),
                      Int(Get(status, "currentReplicas")), Age(o, now)});
}

}  // namespace

void RegisterAutoscalingPrinters() {
  Register("autoscaling", "HorizontalPodAutoscaler",
           {{NameColumn(),
             Col("Reference", "string", "reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource."),
             Col("Targets", "string", "metrics contains the specifications for which to use to calculate the desired replica count."),
             Col("MinPods", "string", "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down."),
             Col("MaxPods", "string", "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up."),
             Col("Replicas", "string", "currentReplicas is current number of replicas of pods managed by this autoscaler."),
             AgeColumn()},
            HorizontalPodAutoscalerRow});
}

}  // namespace kubes::apiserver
