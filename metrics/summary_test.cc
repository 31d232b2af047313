// The kubelet's Summary read into usage figures, and the figures written as upstream's
// quantities and metrics.k8s.io objects.
#include "metrics/summary.h"

#include <gtest/gtest.h>

namespace kubes::metrics {
namespace {

const char* kSummary = R"({
  "node": {"nodeName": "n1",
           "cpu": {"time": "2024-05-01T10:00:15Z", "usageNanoCores": 523000000, "usageCoreNanoSeconds": 99},
           "memory": {"time": "2024-05-01T10:00:15Z", "workingSetBytes": 2147483648}},
  "pods": [
    {"podRef": {"name": "web", "namespace": "default", "uid": "u1"},
     "startTime": "2024-05-01T09:00:00Z",
     "containers": [
       {"name": "app", "cpu": {"time": "2024-05-01T10:00:15Z", "usageNanoCores": 1500000},
        "memory": {"time": "2024-05-01T10:00:15Z", "workingSetBytes": 12648448}},
       {"name": "sidecar", "cpu": {"time": "2024-05-01T10:00:14Z", "usageNanoCores": 0},
        "memory": {"time": "2024-05-01T10:00:14Z", "workingSetBytes": 4096}}]},
    {"podRef": {"name": "young", "namespace": "default", "uid": "u2"},
     "containers": [{"name": "app", "cpu": {"time": "2024-05-01T10:00:15Z", "usageCoreNanoSeconds": 5},
                     "memory": {"time": "2024-05-01T10:00:15Z", "workingSetBytes": 4096}}]},
    {"podRef": {"name": "empty", "namespace": "default"}, "containers": []},
    "not an object"
  ]})";

TEST(ParseSummary, ReadsCompletePodsAndSkipsTheRest) {
  auto s = ParseSummary(kSummary);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->node_name, "n1");
  EXPECT_TRUE(s->node.known);
  EXPECT_EQ(s->node.cpu_nanocores, 523000000);
  EXPECT_EQ(s->node.memory_bytes, 2147483648);
  EXPECT_EQ(s->node.timestamp, *ParseRFC3339("2024-05-01T10:00:15Z"));
  // "young" has no CPU rate yet, "empty" no containers: both are left out.
  ASSERT_EQ(s->pods.size(), 1u);
  const PodUsage& web = s->pods[0];
  EXPECT_EQ(web.namespace_, "default");
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.uid, "u1");
  EXPECT_EQ(web.timestamp, *ParseRFC3339("2024-05-01T10:00:15Z"));  // the newest container reading
  ASSERT_EQ(web.containers.size(), 2u);
  EXPECT_EQ(web.containers[0].name, "app");
  EXPECT_EQ(web.containers[0].cpu_nanocores, 1500000);
  EXPECT_EQ(web.containers[1].memory_bytes, 4096);
}

TEST(ParseSummary, RejectsWhatIsNotASummary) {
  for (const char* bad : {"", "[]", "{", "{\"pods\": []}", "{\"node\": {\"nodeName\": 5}}",
                          "{\"node\": {\"nodeName\": \"n\"}, \"pods\": {}}", "null", "\"text\""}) {
    EXPECT_FALSE(ParseSummary(bad).ok()) << bad;
  }
  // A node without figures is still a summary (its pods may have some).
  auto s = ParseSummary(R"({"node": {"nodeName": "n", "cpu": {"usageNanoCores": -5}}})");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->node.known);
  EXPECT_TRUE(s->pods.empty());
}

TEST(Quantities, CpuIsCanonicalDecimal) {
  struct Case {
    int64_t nanocores;
    const char* want;
  } cases[] = {{0, "0"},           {123456, "123456n"}, {1000, "1u"},         {1500000, "1500u"},
               {2000000, "2m"},    {250000000, "250m"}, {1000000000, "1"},    {2500000000, "2500m"},
               {3000000000000, "3k"}, {-2000000, "-2m"}};
  for (const auto& c : cases) EXPECT_EQ(FormatCPU(c.nanocores), c.want) << c.nanocores;
}

TEST(Quantities, MemoryIsCanonicalBinary) {
  struct Case {
    int64_t bytes;
    const char* want;
  } cases[] = {{0, "0"},          {512, "512"},          {1000, "1k"},  {1024, "1Ki"},
               {1500, "1500"},    {12648448, "12352Ki"}, {67108864, "64Mi"}, {1073741824, "1Gi"},
               {1073741825, "1073741825"}};
  for (const auto& c : cases) EXPECT_EQ(FormatMemory(c.bytes), c.want) << c.bytes;
}

TEST(Objects, NodeAndPodMetricsHaveUpstreamsShape) {
  TimePoint now = *ParseRFC3339("2024-05-01T10:00:20Z");
  auto s = ParseSummary(kSummary);
  ASSERT_TRUE(s.ok());
  Json node = {{"metadata", {{"name", "n1"}, {"labels", {{"kubernetes.io/hostname", "n1"}}}}}};
  Json nm = NodeMetricsObject(s->node, node, now);
  EXPECT_EQ(nm, Json::parse(R"({"kind": "NodeMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
      "metadata": {"name": "n1", "creationTimestamp": "2024-05-01T10:00:20Z",
                   "labels": {"kubernetes.io/hostname": "n1"}},
      "timestamp": "2024-05-01T10:00:15Z", "window": "15s",
      "usage": {"cpu": "523m", "memory": "2Gi"}})"));
  Json pod = {{"metadata", {{"name", "web"}, {"namespace", "default"}, {"labels", {{"app", "web"}}}}}};
  Json pm = PodMetricsObject(s->pods[0], pod, now);
  EXPECT_EQ(pm, Json::parse(R"({"kind": "PodMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
      "metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2024-05-01T10:00:20Z",
                   "labels": {"app": "web"}},
      "timestamp": "2024-05-01T10:00:15Z", "window": "15s",
      "containers": [{"name": "app", "usage": {"cpu": "1500u", "memory": "12352Ki"}},
                     {"name": "sidecar", "usage": {"cpu": "0", "memory": "4Ki"}}]})"));
}

}  // namespace
}  // namespace kubes::metrics
