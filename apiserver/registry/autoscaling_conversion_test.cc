// HorizontalPodAutoscaler conversion between autoscaling/v1 and the stored v2.
#include "apiserver/registry/autoscaling_conversion.h"

#include <gtest/gtest.h>

namespace kubes::apiserver {
namespace {

Json FullV2() {
  return Json::parse(R"({
    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "web", "namespace": "default", "annotations": {"team": "a"}},
    "spec": {
      "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
      "minReplicas": 1, "maxReplicas": 10,
      "metrics": [
        {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
        {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}},
        {"type": "Object", "object": {"describedObject": {"apiVersion": "v1", "kind": "Service", "name": "web"},
                                      "metric": {"name": "hits"}, "target": {"type": "Value", "value": "100"}}},
        {"type": "External", "external": {"metric": {"name": "queue"}, "target": {"type": "AverageValue", "averageValue": "5"}}},
        {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
                                                            "target": {"type": "Utilization", "averageUtilization": 60}}},
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}
      ],
      "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}
    },
    "status": {
      "observedGeneration": 3, "currentReplicas": 2, "desiredReplicas": 3,
      "currentMetrics": [
        {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "80Mi"}}},
        {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 70, "averageValue": "70m"}}}
      ],
      "conditions": [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale",
                      "lastTransitionTime": "2026-01-01T00:00:00Z"}]
    }
  })");
}

TEST(AutoscalingConversion, V1ShowsTheCPUTargetAndCarriesTheRestInAnnotations) {
  Json v1 = HorizontalPodAutoscalerToV1(FullV2());
  EXPECT_EQ(v1["apiVersion"], "autoscaling/v1");
  EXPECT_EQ(v1["spec"]["targetCPUUtilizationPercentage"], 50);
  EXPECT_FALSE(v1["spec"].contains("metrics"));
  EXPECT_FALSE(v1["spec"].contains("behavior"));
  EXPECT_EQ(v1["spec"]["maxReplicas"], 10);
  EXPECT_EQ(v1["status"]["currentCPUUtilizationPercentage"], 70);
  EXPECT_FALSE(v1["status"].contains("conditions"));
  const Json& a = v1["metadata"]["annotations"];
  EXPECT_EQ(a["team"], "a");
  Json metrics = Json::parse(a["autoscaling.alpha.kubernetes.io/metrics"].get<std::string>());
  ASSERT_EQ(metrics.size(), 5u);  // all but the CPU utilization target
  EXPECT_EQ(metrics[0], Json::parse(R"({"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "100Mi"}})"));
  EXPECT_EQ(metrics[1], Json::parse(R"({"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "10"}})"));
  EXPECT_EQ(metrics[2]["object"]["target"]["kind"], "Service");
  EXPECT_EQ(metrics[2]["object"]["targetValue"], "100");
  EXPECT_EQ(metrics[3]["external"]["targetAverageValue"], "5");
  EXPECT_EQ(metrics[4]["containerResource"]["container"], "app");
  Json current = Json::parse(a["autoscaling.alpha.kubernetes.io/current-metrics"].get<std::string>());
  EXPECT_EQ(current, Json::parse(R"([{"type": "Resource", "resource": {"name": "memory", "currentAverageValue": "80Mi"}}])"));
  EXPECT_EQ(Json::parse(a["autoscaling.alpha.kubernetes.io/conditions"].get<std::string>())[0]["reason"], "ReadyForNewScale");
  EXPECT_EQ(Json::parse(a["autoscaling.alpha.kubernetes.io/behavior"].get<std::string>()),
            FullV2()["spec"]["behavior"]);
}

// What a v1 client reads and writes back unchanged is stored as it was, apart from
// metric order (upstream's order: the annotation's metrics, then the CPU target) and
// the CPU current value's averageValue, which v1 has no field for.
TEST(AutoscalingConversion, RoundTripKeepsEverything) {
  Json want = FullV2();
  Json back = HorizontalPodAutoscalerToV2(HorizontalPodAutoscalerToV1(want));
  want["status"]["currentMetrics"][1]["resource"]["current"].erase("averageValue");
  EXPECT_EQ(back, want) << back.dump(2);
  // And v1 → v2 → v1 is exact.
  Json v1 = HorizontalPodAutoscalerToV1(FullV2());
  EXPECT_EQ(HorizontalPodAutoscalerToV1(HorizontalPodAutoscalerToV2(v1)), v1);
}

TEST(AutoscalingConversion, KubectlAutoscaleObjects) {
  // kubectl autoscale --cpu-percent=50, and without a target (v2 defaults it to 80%).
  Json v1 = {{"apiVersion", "autoscaling/v1"},
             {"kind", "HorizontalPodAutoscaler"},
             {"metadata", {{"name", "web"}}},
             {"spec", {{"scaleTargetRef", {{"kind", "Deployment"}, {"name", "web"}}}, {"maxReplicas", 5},
                       {"targetCPUUtilizationPercentage", 50}}}};
  Json v2 = HorizontalPodAutoscalerToV2(v1);
  EXPECT_EQ(v2["apiVersion"], "autoscaling/v2");
  EXPECT_EQ(v2["spec"]["metrics"], Json::parse(R"([{"type": "Resource", "resource": {"name": "cpu",
      "target": {"type": "Utilization", "averageUtilization": 50}}}])"));
  EXPECT_FALSE(v2.contains("status"));
  EXPECT_FALSE(v2["metadata"].contains("annotations"));
  v1["spec"].erase("targetCPUUtilizationPercentage");
  EXPECT_EQ(HorizontalPodAutoscalerToV2(v1)["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 80);
  // Garbage in an annotation is dropped, not fatal.
  v1["metadata"]["annotations"] = {{"autoscaling.alpha.kubernetes.io/metrics", "{not json"}};
  v2 = HorizontalPodAutoscalerToV2(v1);
  EXPECT_EQ(v2["spec"]["metrics"].size(), 1u);
  EXPECT_FALSE(v2["metadata"].contains("annotations"));
}

}  // namespace
}  // namespace kubes::apiserver
