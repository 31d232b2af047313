// ReplicaCalculator on upstream's own cases (pkg/controller/podautoscaler/
// replica_calculator_test.go, the resource-metric ones): pods with two containers
// each, metrics per container, readiness, start times ("hot" pods are still in the CPU
// initialization period, "cool" ones are past it), phases and deletions. The metrics go
// through a PodMetricsList, as they arrive from metrics.k8s.io.
#include "controller/podautoscaler/replica_calculator.h"

#include <gtest/gtest.h>

#include <cmath>

// Cases name only the fields they need.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace kubes::controller::podautoscaler {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

class FakeClock : public Clock {
 public:
  TimePoint Now() const override { return now; }
  TimePoint now = std::chrono::time_point_cast<seconds>(std::chrono::system_clock::now());
};

// A metrics client answering with a fixed PodMetricsList.
class ListMetricsClient : public MetricsClient {
 public:
  Json list = {{"items", Json::array()}};
  Result<ResourceMetrics> GetResourceMetric(const std::string& resource, const std::string&, const labels::Selector&,
                                            const std::string& container) override {
    return ResourceMetricsFromList(list, resource, container);
  }
};

// upstream's test defaults
CalculatorOptions TestOptions() { return {0.1, minutes(2), seconds(10)}; }

struct Case {
  const char* name;
  int32_t current = 0;
  int32_t expected = 0;
  std::string error;  // expected error (a substring), "" for success
  std::vector<std::string> requests;           // per pod, both containers
  std::vector<std::vector<int64_t>> levels;    // per pod, per container (millicores)
  int32_t target = 0;
  int32_t expected_utilization = 0;
  int64_t expected_value = 0;
  std::string container;
  std::vector<std::string> readiness;  // per pod: True (default) or False
  std::vector<std::string> start;      // per pod: "hot", "cool" or "" (long ago)
  std::vector<std::string> phase;      // per pod: Running (default), Pending, Failed
  std::vector<bool> deleting;
  std::vector<std::string> metric_pod_names;
};

// The same level for both containers of each pod (upstream makePodMetricLevels).
std::vector<std::vector<int64_t>> Levels(std::initializer_list<int64_t> per_pod) {
  std::vector<std::vector<int64_t>> out;
  for (int64_t v : per_pod) out.push_back({v, v});
  return out;
}

std::vector<std::string> Ones(int n) { return std::vector<std::string>(n, "1.0"); }

class ReplicaCalculatorTest : public ::testing::Test {
 protected:
  std::vector<Json> Pods(const Case& c) {
    size_t count = std::max<size_t>(c.current, c.phase.size());
    std::vector<Json> pods;
    for (size_t i = 0; i < count; ++i) {
      std::string start = i < c.start.size() ? c.start[i] : "";
      TimePoint started = start == "hot" ? clock_.now : start == "cool" ? clock_.now - minutes(3) : TimePoint{};
      Json pod = {{"metadata", {{"name", "test-pod-" + std::to_string(i)}, {"namespace", "test-namespace"},
                                {"labels", {{"name", "test-pod"}}}}},
                  {"spec", {{"containers", {{{"name", "container1"}}, {{"name", "container2"}}}}}},
                  {"status", {{"phase", i < c.phase.size() ? c.phase[i] : "Running"},
                              {"startTime", FormatRFC3339(started)},
                              {"conditions", {{{"type", "Ready"},
                                               {"status", i < c.readiness.size() ? c.readiness[i] : "True"}}}}}}};
      if (i < c.deleting.size() && c.deleting[i]) pod["metadata"]["deletionTimestamp"] = FormatRFC3339(clock_.now);
      if (i < c.requests.size()) {
        for (auto& container : pod["spec"]["containers"]) {
          container["resources"] = {{"requests", {{"cpu", c.requests[i]}}}};
        }
      }
      pods.push_back(pod);
    }
    return pods;
  }

  Json MetricsList(const Case& c) {
    Json items = Json::array();
    for (size_t i = 0; i < c.levels.size(); ++i) {
      std::string name = i < c.metric_pod_names.size() ? c.metric_pod_names[i] : "test-pod-" + std::to_string(i);
      Json containers = Json::array();
      for (size_t j = 0; j < c.levels[i].size(); ++j) {
        containers.push_back({{"name", "container" + std::to_string(j + 1)},
                              {"usage", {{"cpu", std::to_string(c.levels[i][j]) + "m"}}}});
      }
      items.push_back({{"metadata", {{"name", name}, {"namespace", "test-namespace"}}},
                       {"timestamp", FormatRFC3339(TimePoint{})},
                       {"window", "1m0s"},
                       {"containers", containers}});
    }
    return {{"items", items}};
  }

  void Run(const Case& c) {
    SCOPED_TRACE(c.name);
    ListMetricsClient metrics;
    metrics.list = MetricsList(c);
    ReplicaCalculator calc(&metrics, TestOptions(), clock_);
    auto r = calc.GetResourceReplicas(c.current, c.target, "cpu", "test-namespace", labels::Selector(), c.container,
                                      Pods(c));
    if (!c.error.empty()) {
      ASSERT_FALSE(r.ok()) << "replicas " << r->replicas;
      EXPECT_NE(r.status().message().find(c.error), std::string::npos) << r.status().message();
      return;
    }
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->replicas, c.expected);
    EXPECT_EQ(r->utilization, c.expected_utilization);
    EXPECT_EQ(r->raw_usage, c.expected_value);
    EXPECT_EQ(r->timestamp, TimePoint{});
  }

  FakeClock clock_;
};

TEST_F(ReplicaCalculatorTest, UpstreamResourceCases) {
  const int kContainers = 2;
  std::vector<Case> cases = {
      {.name = "DisjointResourcesMetrics", .current = 1, .error = "no metrics returned matched known pods",
       .requests = Ones(1), .levels = Levels({100}), .target = 100, .metric_pod_names = {"an-older-pod-name"}},
      {.name = "ScaleUp", .current = 3, .expected = 5, .requests = Ones(3), .levels = Levels({300, 500, 700}),
       .target = 30, .expected_utilization = 50, .expected_value = kContainers * 500},
      {.name = "ContainerScaleUp", .current = 3, .expected = 5, .requests = Ones(3),
       .levels = {{1000, 300}, {1000, 500}, {1000, 700}}, .target = 30, .expected_utilization = 50,
       .expected_value = 500, .container = "container2"},
      {.name = "ScaleUpUnreadyLessScale", .current = 3, .expected = 4, .requests = Ones(3),
       .levels = Levels({300, 500, 700}), .target = 30, .expected_utilization = 60, .expected_value = kContainers * 600,
       .readiness = {"False", "True", "True"}},
      {.name = "ScaleUpContainerHotCpuLessScale", .current = 3, .expected = 4, .requests = Ones(3),
       .levels = {{0, 300}, {0, 500}, {0, 700}}, .target = 30, .expected_utilization = 60, .expected_value = 600,
       .container = "container2", .start = {"hot", "cool", "cool"}},
      {.name = "ScaleUpHotCpuLessScale", .current = 3, .expected = 4, .requests = Ones(3),
       .levels = Levels({300, 500, 700}), .target = 30, .expected_utilization = 60, .expected_value = kContainers * 600,
       .start = {"hot", "cool", "cool"}},
      {.name = "ScaleUpUnreadyNoScale", .current = 3, .expected = 3, .requests = Ones(3),
       .levels = Levels({400, 500, 700}), .target = 30, .expected_utilization = 40, .expected_value = kContainers * 400,
       .readiness = {"True", "False", "False"}},
      {.name = "ScaleHotCpuNoScale", .current = 3, .expected = 3, .requests = Ones(3),
       .levels = Levels({400, 500, 700}), .target = 30, .expected_utilization = 40, .expected_value = kContainers * 400,
       .readiness = {"True", "False", "False"}, .start = {"cool", "hot", "hot"}},
      {.name = "ScaleUpIgnoresFailedPods", .current = 2, .expected = 4, .requests = Ones(4),
       .levels = Levels({500, 700}), .target = 30, .expected_utilization = 60, .expected_value = kContainers * 600,
       .readiness = {"True", "True", "False", "False"}, .phase = {"Running", "Running", "Failed", "Failed"}},
      {.name = "MissingContainerMetricScaleUpIgnoresFailedPods", .current = 2, .expected = 4, .requests = Ones(4),
       .levels = {{1000, 500}, {9000, 700}, {1000}, {9000}}, .target = 30, .expected_utilization = 60,
       .expected_value = 600, .container = "container2", .readiness = {"True", "True", "False", "False"},
       .phase = {"Running", "Running", "Failed", "Failed"}},
      {.name = "ScaleUpContainerIgnoresFailedPods", .current = 2, .expected = 4, .requests = Ones(4),
       .levels = {{1000, 500}, {9000, 700}}, .target = 30, .expected_utilization = 60, .expected_value = 600,
       .container = "container2", .readiness = {"True", "True", "False", "False"},
       .phase = {"Running", "Running", "Failed", "Failed"}},
      {.name = "ScaleUpIgnoresDeletionPods", .current = 2, .expected = 4, .requests = Ones(4),
       .levels = Levels({500, 700}), .target = 30, .expected_utilization = 60, .expected_value = kContainers * 600,
       .readiness = {"True", "True", "False", "False"}, .phase = {"Running", "Running", "Running", "Running"},
       .deleting = {false, false, true, true}},
      {.name = "ScaleDown", .current = 5, .expected = 3, .requests = Ones(5),
       .levels = Levels({100, 300, 500, 250, 250}), .target = 50, .expected_utilization = 28,
       .expected_value = kContainers * 280},
      {.name = "ContainerScaleDown", .current = 5, .expected = 3, .requests = Ones(5),
       .levels = {{1000, 100}, {1000, 300}, {1000, 500}, {1000, 250}, {1000, 250}}, .target = 50,
       .expected_utilization = 28, .expected_value = 280, .container = "container2"},
      {.name = "ScaleDownExcludeUnreadyPods", .current = 5, .expected = 2, .requests = Ones(5),
       .levels = Levels({100, 300, 500, 250, 250}), .target = 50, .expected_utilization = 30,
       .expected_value = kContainers * 300, .readiness = {"True", "True", "True", "False", "False"}},
      {.name = "ScaleDownExcludeUnscheduledPods", .current = 5, .expected = 1, .requests = Ones(5),
       .levels = Levels({100}), .target = 50, .expected_utilization = 10, .expected_value = kContainers * 100,
       .readiness = {"True", "False", "False", "False", "False"},
       .phase = {"Running", "Pending", "Pending", "Pending", "Pending"}},
      {.name = "ScaleDownIgnoreHotCpuPods", .current = 5, .expected = 2, .requests = Ones(5),
       .levels = Levels({100, 300, 500, 250, 250}), .target = 50, .expected_utilization = 30,
       .expected_value = kContainers * 300, .start = {"cool", "cool", "cool", "hot", "hot"}},
      {.name = "ScaleDownIgnoresFailedPods", .current = 5, .expected = 3, .requests = Ones(7),
       .levels = Levels({100, 300, 500, 250, 250}), .target = 50, .expected_utilization = 28,
       .expected_value = kContainers * 280, .readiness = {"True", "True", "True", "True", "True", "False", "False"},
       .phase = {"Running", "Running", "Running", "Running", "Running", "Failed", "Failed"}},
      {.name = "ScaleDownIgnoresDeletionPods", .current = 5, .expected = 3, .requests = Ones(7),
       .levels = Levels({100, 300, 500, 250, 250}), .target = 50, .expected_utilization = 28,
       .expected_value = kContainers * 280, .readiness = {"True", "True", "True", "True", "True", "False", "False"},
       .phase = std::vector<std::string>(7, "Running"), .deleting = {false, false, false, false, false, true, true}},
      {.name = "Tolerance", .current = 3, .expected = 3, .requests = {"0.9", "1.0", "1.1"},
       .levels = Levels({1010, 1030, 1020}), .target = 100, .expected_utilization = 102,
       .expected_value = kContainers * 1020},
      {.name = "SuperfluousMetrics", .current = 4, .expected = 24, .requests = Ones(4),
       .levels = Levels({4000, 9500, 3000, 7000, 3200, 2000}), .target = 100, .expected_utilization = 587,
       .expected_value = kContainers * 5875},
      {.name = "MissingMetrics", .current = 4, .expected = 3, .requests = Ones(4), .levels = Levels({400, 95}),
       .target = 100, .expected_utilization = 24, .expected_value = 495},
      {.name = "EmptyMetrics", .current = 4,
       .error = "unable to get metrics for resource cpu: no metrics returned from resource metrics API",
       .requests = Ones(3), .levels = {}, .target = 100},
      {.name = "EmptyCPURequest", .current = 1, .error = "missing request for", .requests = {},
       .levels = Levels({200}), .target = 100},
      {.name = "MissingMetricsNoChangeEq", .current = 2, .expected = 2, .requests = Ones(2), .levels = Levels({1000}),
       .target = 100, .expected_utilization = 100, .expected_value = kContainers * 1000},
      {.name = "MissingMetricsNoChangeGt", .current = 2, .expected = 2, .requests = Ones(2), .levels = Levels({1900}),
       .target = 100, .expected_utilization = 190, .expected_value = kContainers * 1900},
      {.name = "MissingMetricsNoChangeLt", .current = 2, .expected = 2, .requests = Ones(2), .levels = Levels({600}),
       .target = 100, .expected_utilization = 60, .expected_value = kContainers * 600},
      {.name = "MissingMetricsUnreadyChange", .current = 3, .expected = 3, .requests = Ones(3),
       .levels = Levels({100, 450}), .target = 50, .expected_utilization = 45, .expected_value = kContainers * 450,
       .readiness = {"False", "True", "True"}},
      {.name = "MissingMetricsHotCpuNoChange", .current = 3, .expected = 3, .requests = Ones(3),
       .levels = Levels({100, 450}), .target = 50, .expected_utilization = 45, .expected_value = kContainers * 450,
       .start = {"hot", "cool", "cool"}},
      {.name = "MissingMetricsUnreadyScaleUp", .current = 3, .expected = 4, .requests = Ones(3),
       .levels = Levels({100, 2000}), .target = 50, .expected_utilization = 200, .expected_value = kContainers * 2000,
       .readiness = {"False", "True", "True"}},
      {.name = "MissingMetricsHotCpuScaleUp", .current = 3, .expected = 4, .requests = Ones(3),
       .levels = Levels({100, 2000}), .target = 50, .expected_utilization = 200, .expected_value = kContainers * 2000,
       .readiness = {"False", "True", "True"}, .start = {"hot", "cool", "cool"}},
      {.name = "MissingMetricsUnreadyScaleDown", .current = 4, .expected = 3, .requests = Ones(4),
       .levels = Levels({100, 100, 100}), .target = 50, .expected_utilization = 10, .expected_value = kContainers * 100,
       .readiness = {"False", "True", "True", "True"}},
      {.name = "MissingMetricsScaleDownTargetOver100", .current = 4, .expected = 2,
       .requests = {"1.0", "1.0", "2.0", "2.0"}, .levels = Levels({200, 100, 100}), .target = 300,
       .expected_utilization = 6, .expected_value = kContainers * 100, .readiness = {"False", "True", "True", "True"}},
      {.name = "DuringRollingUpdateWithMaxSurge", .current = 2, .expected = 2, .requests = Ones(3),
       .levels = Levels({100, 100}), .target = 50, .expected_utilization = 10, .expected_value = kContainers * 100,
       .phase = {"Running", "Running", "Running"}},
  };
  for (const auto& c : cases) Run(c);
}

// upstream TestReplicaCalcComputedToleranceAlgImplementation: a utilization just past
// the tolerance scales; one just within it does not.
TEST_F(ReplicaCalculatorTest, ComputedTolerance) {
  const int32_t start_pods = 10;
  const int64_t total_used = start_pods * 150;            // 150m per pod
  const int32_t total_requested = 2 * total_used;         // twice what is used
  const double requested_to_used = static_cast<double>(total_requested / total_used);
  const int32_t per_pod = total_requested / start_pods;
  double target = std::abs(1 / (requested_to_used * (1 - 0.1))) + .01;
  double used_ratio = static_cast<double>(total_used) / (static_cast<double>(total_requested) * target);
  Case c{.name = "ComputedTolerance", .current = start_pods,
         .expected = static_cast<int32_t>(std::ceil(used_ratio * start_pods))};
  for (int d : {100, -100, 10, -10, 2, -2, 1, -1, 0, 0}) c.requests.push_back(std::to_string(per_pod + d) + "m");
  for (int i = 0; i < start_pods; ++i) c.levels.push_back({total_used / 10, total_used / 10});
  c.target = static_cast<int32_t>(target * 100);
  c.expected_utilization = static_cast<int32_t>(total_used * 100 / total_requested);
  c.expected_value = 2 * total_used / 10;
  Run(c);
  target = std::abs(1 / (requested_to_used * (1 - 0.1))) + .004;
  c.target = static_cast<int32_t>(target * 100);
  c.expected = start_pods;
  Run(c);
}

// upstream TestGroupPods.
TEST_F(ReplicaCalculatorTest, GroupPods) {
  TimePoint now = clock_.now;
  auto pod = [](const std::string& name, const std::string& phase, std::optional<TimePoint> start,
                std::optional<std::pair<std::string, TimePoint>> ready) {
    Json p = {{"metadata", {{"name", name}}}, {"status", {{"phase", phase}}}};
    if (start) p["status"]["startTime"] = FormatRFC3339(*start);
    if (ready) {
      p["status"]["conditions"] = {
          {{"type", "Ready"}, {"status", ready->first}, {"lastTransitionTime", FormatRFC3339(ready->second)}}};
    }
    return p;
  };
  auto metric = [](TimePoint t, std::chrono::milliseconds window) { return PodMetric{t, window, 1}; };
  struct GroupCase {
    const char* name;
    std::vector<Json> pods;
    PodMetricsInfo metrics;
    std::string resource;
    int ready;
    std::set<std::string> unready, missing, ignored;
  } cases[] = {
      {"void", {}, {}, "cpu", 0, {}, {}, {}},
      {"count in a ready pod - memory", {pod("bentham", "Succeeded", std::nullopt, std::nullopt)},
       {{"bentham", metric(now, minutes(1))}}, "memory", 1, {}, {}, {}},
      {"unready a pod without ready condition - CPU", {pod("lucretius", "Succeeded", now, std::nullopt)},
       {{"lucretius", PodMetric{{}, {}, 1}}}, "cpu", 0, {"lucretius"}, {}, {}},
      {"count in a ready pod with fresh metrics during initialization period - CPU",
       {pod("bentham", "Succeeded", now - minutes(1), std::make_pair("True", now - seconds(30)))},
       {{"bentham", metric(now, seconds(30))}}, "cpu", 1, {}, {}, {}},
      {"unready a ready pod without fresh metrics during initialization period - CPU",
       {pod("bentham", "Succeeded", now - minutes(1), std::make_pair("True", now - seconds(30)))},
       {{"bentham", metric(now, seconds(60))}}, "cpu", 0, {"bentham"}, {}, {}},
      {"unready an unready pod during initialization period - CPU",
       {pod("lucretius", "Succeeded", now - minutes(10), std::make_pair("False", now - minutes(9) - seconds(54)))},
       {{"lucretius", PodMetric{{}, {}, 1}}}, "cpu", 0, {"lucretius"}, {}, {}},
      {"count in a ready pod without fresh metrics after initialization period - CPU",
       {pod("bentham", "Succeeded", now - minutes(3), std::make_pair("True", now - minutes(3)))},
       {{"bentham", metric(now - minutes(2), minutes(1))}}, "cpu", 1, {}, {}, {}},
      {"count in an unready pod that was ready after initialization period - CPU",
       {pod("lucretius", "Succeeded", now - minutes(10), std::make_pair("False", now - minutes(9)))},
       {{"lucretius", PodMetric{{}, {}, 1}}}, "cpu", 1, {}, {}, {}},
      {"unready pod that has never been ready after initialization period - CPU",
       {pod("lucretius", "Succeeded", now - minutes(10), std::make_pair("False", now - minutes(9) - seconds(50)))},
       {{"lucretius", PodMetric{{}, {}, 1}}}, "cpu", 1, {}, {}, {}},
      {"a missing pod", {pod("epicurus", "Succeeded", now - minutes(3), std::nullopt)}, {}, "cpu", 0, {}, {"epicurus"}, {}},
      {"several pods",
       {pod("lucretius", "Succeeded", now, std::nullopt),
        pod("niccolo", "Succeeded", now - minutes(3), std::make_pair("True", now - minutes(3))),
        pod("epicurus", "Succeeded", now - minutes(3), std::nullopt)},
       {{"lucretius", PodMetric{{}, {}, 1}}, {"niccolo", PodMetric{{}, {}, 1}}}, "cpu", 1, {"lucretius"}, {"epicurus"}, {}},
      {"pending pods are unreadied", {pod("unscheduled", "Pending", std::nullopt, std::nullopt)}, {}, "cpu", 0,
       {"unscheduled"}, {}, {}},
      {"ignore pods in a failed state", {pod("failed", "Failed", std::nullopt, std::nullopt)},
       {{"failed", PodMetric{{}, {}, 1}}}, "cpu", 0, {}, {}, {"failed"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    PodGroups g = GroupPods(c.pods, c.metrics, c.resource, TestOptions(), now);
    EXPECT_EQ(g.ready, c.ready);
    EXPECT_EQ(g.unready, c.unready);
    EXPECT_EQ(g.missing, c.missing);
    EXPECT_EQ(g.ignored, c.ignored);
  }
  Json deleted = pod("deleted", "Pending", std::nullopt, std::nullopt);
  deleted["metadata"]["deletionTimestamp"] = "1970-01-01T00:00:01Z";
  PodGroups g = GroupPods({deleted}, {{"deleted", PodMetric{{}, {}, 1}}}, "cpu", TestOptions(), now);
  EXPECT_EQ(g.ignored, std::set<std::string>{"deleted"});
  EXPECT_TRUE(g.unready.empty());
}

// upstream TestCalculatePodRequests.
TEST(CalculatePodRequests, Cases) {
  auto container = [](const std::string& name, const std::string& cpu) {
    Json c = {{"name", name}};
    if (!cpu.empty()) c["resources"] = {{"requests", {{"cpu", cpu}}}};
    return c;
  };
  Json regular = {{"metadata", {{"name", "test-pod"}}},
                  {"spec", {{"containers", {container("container1", "100m"), container("container2", "50m")}}}}};
  EXPECT_EQ(*CalculatePodRequests({regular}, "", "cpu"), (std::map<std::string, int64_t>{{"test-pod", 150}}));
  EXPECT_EQ(*CalculatePodRequests({regular}, "container1", "cpu"), (std::map<std::string, int64_t>{{"test-pod", 100}}));
  EXPECT_TRUE(CalculatePodRequests({}, "", "cpu")->empty());
  Json missing = {{"metadata", {{"name", "test-pod"}}}, {"spec", {{"containers", {container("container1", "")}}}}};
  EXPECT_EQ(CalculatePodRequests({missing}, "", "cpu").status().message(),
            "missing request for cpu in container container1 of Pod test-pod");
  Json sidecars = {{"metadata", {{"name", "test-pod"}}},
                   {"spec", {{"containers", {container("container1", "100m")}},
                             {"initContainers", {container("init-container1", "20m"),
                                                 container("restartable-container1", "50m")}}}}};
  sidecars["spec"]["initContainers"][1]["restartPolicy"] = "Always";
  EXPECT_EQ(*CalculatePodRequests({sidecars}, "", "cpu"), (std::map<std::string, int64_t>{{"test-pod", 150}}));
}

// AverageValue targets (GetRawResourceReplicas): the average per pod against the target.
TEST_F(ReplicaCalculatorTest, RawResourceReplicas) {
  ListMetricsClient metrics;
  Case c{.name = "raw", .current = 3, .requests = Ones(3), .levels = Levels({100, 200, 300})};
  metrics.list = MetricsList(c);
  ReplicaCalculator calc(&metrics, TestOptions(), clock_);
  // 400m per pod on average (two containers), target 200m: double.
  auto r = calc.GetRawResourceReplicas(3, 200, "cpu", "test-namespace", labels::Selector(), "", Pods(c));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->replicas, 6);
  EXPECT_EQ(r->raw_usage, 400);
  // Within tolerance: unchanged.
  r = calc.GetRawResourceReplicas(3, 390, "cpu", "test-namespace", labels::Selector(), "", Pods(c));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->replicas, 3);
  // A missing pod on a scale-down counts as exactly at target.
  c.levels = Levels({50, 50});
  metrics.list = MetricsList(c);
  r = calc.GetRawResourceReplicas(3, 200, "cpu", "test-namespace", labels::Selector(), "", Pods(c));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->replicas, 2);  // (100 + 100 + 200) / 3 = 133 per pod → ceil(0.665 × 3)
}

TEST(ParseWindow, GoDurations) {
  EXPECT_EQ(ParseWindow("15s"), std::chrono::milliseconds(15000));
  EXPECT_EQ(ParseWindow("1m0s"), std::chrono::milliseconds(60000));
  EXPECT_EQ(ParseWindow("10.5s"), std::chrono::milliseconds(10500));
  EXPECT_EQ(ParseWindow("500ms"), std::chrono::milliseconds(500));
  EXPECT_FALSE(ParseWindow(""));
  EXPECT_FALSE(ParseWindow("15"));
  EXPECT_FALSE(ParseWindow("s"));
  EXPECT_FALSE(ParseWindow("-5s"));
}

}  // namespace
}  // namespace kubes::controller::podautoscaler
