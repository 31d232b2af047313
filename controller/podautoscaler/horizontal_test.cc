// SyncHPA against a real in-process apiserver (apiserver/testing/test_server.h) with a
// fake metrics source and a fake clock: a Deployment's scale follows its pods' CPU use,
// autoscaling/v1 objects work, and the status, conditions and events read as upstream's.
#include "controller/podautoscaler/horizontal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "apiserver/testing/test_server.h"
#include "client/resources.h"

namespace kubes::controller::podautoscaler {
namespace {

using apiserver::testing::TestServer;
using client::kDeployments;
using client::kPods;
using std::chrono::minutes;
using std::chrono::seconds;

const client::Resource kHPAv1{"autoscaling", "v1", "horizontalpodautoscalers", true, "HorizontalPodAutoscaler"};

class FakeClock : public Clock {
 public:
  TimePoint Now() const override { return now; }
  TimePoint now = std::chrono::time_point_cast<seconds>(std::chrono::system_clock::now());
};

// CPU use per pod name (millicores), as metrics.k8s.io would report it; or an error.
class FakeMetrics : public MetricsClient {
 public:
  explicit FakeMetrics(FakeClock* clock) : clock_(clock) {}
  Result<ResourceMetrics> GetResourceMetric(const std::string& resource, const std::string&,
                                            const labels::Selector&, const std::string&) override {
    std::lock_guard<std::mutex> lock(mu);
    if (usage.empty()) return Internal("no metrics returned from resource metrics API");
    ResourceMetrics out;
    out.timestamp = clock_->now;
    for (const auto& [pod, milli] : usage) out.metrics[pod] = PodMetric{clock_->now, seconds(15), milli};
    return out;
  }
  std::mutex mu;
  std::map<std::string, int64_t> usage;

 private:
  FakeClock* clock_;
};

class HorizontalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start("kubes-hpa").ok());
    c_ = server_.client();
    Json sa = {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "default"}}}};
    ASSERT_TRUE(c_->Create(client::kServiceAccounts, "default", sa).ok());
    hpas_ = std::make_unique<client::Informer>(c_, kHorizontalPodAutoscalers);
    pods_ = std::make_unique<client::Informer>(c_, kPods);
    auto metrics = std::make_unique<FakeMetrics>(&clock_);
    metrics_ = metrics.get();
    HorizontalOptions options;
    options.downscale_stabilization = minutes(5);
    hpa_ = std::make_unique<HorizontalController>(c_, *hpas_, *pods_, std::move(metrics), options, clock_);
    for (auto* inf : {hpas_.get(), pods_.get()}) threads_.emplace_back([this, inf] { inf->Run(stop_); });
    ASSERT_TRUE(TestServer::Eventually([&] { return hpas_->HasSynced() && pods_->HasSynced(); }));
  }
  void TearDown() override {
    stop_ = true;
    for (auto& t : threads_) t.join();
    hpa_.reset();
    server_.Stop();
  }

  // A Deployment of `replicas` and that many running, ready pods asking for 100m CPU.
  void MakeDeployment(int replicas, int pods) {
    Json d = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"},
              {"metadata", {{"name", "web"}}},
              {"spec", {{"replicas", replicas},
                        {"selector", {{"matchLabels", {{"app", "web"}}}}},
                        {"template", {{"metadata", {{"labels", {{"app", "web"}}}}},
                                      {"spec", {{"containers", {{{"name", "app"}, {"image", "kubes-demo:1.0"}}}}}}}}}}};
    ASSERT_TRUE(c_->Create(kDeployments, "default", d).ok());
    std::string long_ago = FormatRFC3339(clock_.now - minutes(10));
    for (int i = 0; i < pods; ++i) {
      Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"},
                  {"metadata", {{"name", "web-" + std::to_string(i)}, {"labels", {{"app", "web"}}}}},
                  {"spec", {{"containers", {{{"name", "app"}, {"image", "kubes-demo:1.0"},
                                             {"resources", {{"requests", {{"cpu", "100m"}}}}}}}}}}};
      auto made = c_->Create(kPods, "default", pod);
      ASSERT_TRUE(made.ok()) << made.status().ToString();
      Json st = *made;
      st["status"] = {{"phase", "Running"}, {"startTime", long_ago},
                      {"conditions", {{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", long_ago}}}}};
      ASSERT_TRUE(c_->Update(kPods, "default", st, "status").ok());
    }
    ASSERT_TRUE(TestServer::Eventually([&] {
      int running = 0;
      for (const Json& p : pods_->List()) running += p["status"].value("phase", "") == "Running";
      return running == pods;
    }));
  }

  void SetUsage(std::map<std::string, int64_t> usage) {
    std::lock_guard<std::mutex> lock(metrics_->mu);
    metrics_->usage = std::move(usage);
  }

  // Creates an HPA and waits for the informer to have it.
  void MakeHPA(const client::Resource& r, const Json& hpa) {
    auto made = c_->Create(r, "default", hpa);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    WaitForInformer(*made);
  }
  void WaitForInformer(const Json& obj) {
    std::string rv = obj["metadata"]["resourceVersion"];
    ASSERT_TRUE(TestServer::Eventually([&] {
      Json seen;
      return hpas_->Get("default/" + obj["metadata"]["name"].get<std::string>(), &seen) &&
             std::stoll(seen["metadata"].value("resourceVersion", "0")) >= std::stoll(rv);
    }));
  }
  // Syncs, then waits until the informer has what the sync wrote.
  Status Sync(const std::string& name = "web") {
    Status s = hpa_->SyncHPA("default/" + name);
    auto latest = c_->Get(kHorizontalPodAutoscalers, "default", name);
    if (latest.ok()) WaitForInformer(*latest);
    return s;
  }
  int DeploymentReplicas() { return (*c_->Get(kDeployments, "default", "web"))["spec"]["replicas"]; }
  Json HPA(const client::Resource& r = kHorizontalPodAutoscalers, const std::string& name = "web") {
    return *c_->Get(r, "default", name);
  }
  static Json Condition(const Json& hpa, const std::string& type) {
    for (const auto& c : hpa["status"].value("conditions", Json::array())) {
      if (c["type"] == type) return c;
    }
    return Json();
  }
  // Waits for an event about the HPA with this reason; returns its message.
  std::string EventMessage(const std::string& reason) {
    std::string message;
    TestServer::Eventually([&] {
      auto events = c_->List(client::kEvents, "default");
      if (!events.ok()) return false;
      for (const auto& e : (*events)["items"]) {
        if (e["reason"] == reason && e["involvedObject"]["kind"] == "HorizontalPodAutoscaler") {
          message = e["message"];
          return true;
        }
      }
      return false;
    });
    return message;
  }

  static Json V2(int min, int max, int target, Json behavior = nullptr) {
    Json hpa = {{"apiVersion", "autoscaling/v2"}, {"kind", "HorizontalPodAutoscaler"},
                {"metadata", {{"name", "web"}}},
                {"spec", {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}}},
                          {"minReplicas", min}, {"maxReplicas", max},
                          {"metrics", {{{"type", "Resource"},
                                        {"resource", {{"name", "cpu"},
                                                      {"target", {{"type", "Utilization"},
                                                                  {"averageUtilization", target}}}}}}}}}}};
    if (!behavior.is_null()) hpa["spec"]["behavior"] = behavior;
    return hpa;
  }

  TestServer server_;
  client::Client* c_ = nullptr;
  FakeClock clock_;
  FakeMetrics* metrics_ = nullptr;
  std::unique_ptr<client::Informer> hpas_, pods_;
  std::unique_ptr<HorizontalController> hpa_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

TEST_F(HorizontalTest, ScalesUpOnCPUAboveTarget) {
  MakeDeployment(2, 2);
  SetUsage({{"web-0", 100}, {"web-1", 100}});  // 100% of the 100m requests, target 50%
  MakeHPA(kHorizontalPodAutoscalers, V2(1, 5, 50));
  ASSERT_TRUE(Sync().ok());
  EXPECT_EQ(DeploymentReplicas(), 4);
  Json hpa = HPA();
  const Json& st = hpa["status"];
  EXPECT_EQ(st["currentReplicas"], 2);
  EXPECT_EQ(st["desiredReplicas"], 4);
  EXPECT_EQ(st["lastScaleTime"], FormatRFC3339(clock_.now));
  EXPECT_EQ(st["currentMetrics"], Json::parse(R"([{"type": "Resource", "resource": {"name": "cpu",
      "current": {"averageUtilization": 100, "averageValue": "100m"}}}])"));
  EXPECT_EQ(Condition(hpa, "AbleToScale")["reason"], "SucceededRescale");
  EXPECT_EQ(Condition(hpa, "AbleToScale")["message"], "the HPA controller was able to update the target scale to 4");
  EXPECT_EQ(Condition(hpa, "ScalingActive")["status"], "True");
  EXPECT_EQ(Condition(hpa, "ScalingActive")["reason"], "ValidMetricFound");
  EXPECT_EQ(Condition(hpa, "ScalingActive")["message"],
            "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of "
            "request)");
  EXPECT_EQ(Condition(hpa, "ScalingLimited")["status"], "False");
  EXPECT_EQ(Condition(hpa, "ScalingLimited")["reason"], "DesiredWithinRange");
  EXPECT_EQ(EventMessage("SuccessfulRescale"),
            "New size: 4; reason: cpu resource utilization (percentage of request) above target");
  // The same use again: 4 replicas stay, and once the status says so, a sync that
  // changes nothing writes nothing.
  clock_.now += seconds(15);
  ASSERT_TRUE(Sync().ok());
  EXPECT_EQ(DeploymentReplicas(), 4);
  EXPECT_EQ(HPA()["status"]["currentReplicas"], 4);
  std::string rv = HPA()["metadata"]["resourceVersion"];
  clock_.now += seconds(15);
  ASSERT_TRUE(Sync().ok());
  EXPECT_EQ(HPA()["metadata"]["resourceVersion"], rv);
}

TEST_F(HorizontalTest, AutoscalingV1ScalesDownAfterTheWindow) {
  MakeDeployment(2, 2);
  SetUsage({{"web-0", 10}, {"web-1", 10}});
  Json v1 = {{"apiVersion", "autoscaling/v1"}, {"kind", "HorizontalPodAutoscaler"},
             {"metadata", {{"name", "web"}}},
             {"spec", {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}}},
                       {"minReplicas", 1}, {"maxReplicas", 5}, {"targetCPUUtilizationPercentage", 50}}}};
  MakeHPA(kHPAv1, v1);
  // The first sync remembers 2 as a recommendation: no scale-down for 5 minutes.
  ASSERT_TRUE(Sync().ok());
  EXPECT_EQ(DeploymentReplicas(), 2);
  Json hpa = HPA(kHPAv1);
  EXPECT_EQ(hpa["apiVersion"], "autoscaling/v1");
  EXPECT_EQ(hpa["status"], Json::parse(R"({"currentReplicas": 2, "desiredReplicas": 2,
      "currentCPUUtilizationPercentage": 10})"));
  clock_.now += minutes(5) + seconds(1);
  ASSERT_TRUE(Sync().ok());
  EXPECT_EQ(DeploymentReplicas(), 1);
  hpa = HPA(kHPAv1);
  EXPECT_EQ(hpa["status"]["desiredReplicas"], 1);
  EXPECT_EQ(hpa["status"]["lastScaleTime"], FormatRFC3339(clock_.now));
  EXPECT_EQ(EventMessage("SuccessfulRescale"), "New size: 1; reason: All metrics below target");
}

TEST_F(HorizontalTest, BehaviorLimitsTheScaleUp) {
  MakeDeployment(2, 2);
  SetUsage({{"web-0", 400}, {"web-1", 400}});
  MakeHPA(kHorizontalPodAutoscalers,
          V2(1, 10, 50, Json::parse(R"({"scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}})")));
  ASSERT_TRUE(Sync().ok());
  EXPECT_EQ(DeploymentReplicas(), 3);
  Json hpa = HPA();
  EXPECT_EQ(Condition(hpa, "ScalingLimited")["status"], "True");
  EXPECT_EQ(Condition(hpa, "ScalingLimited")["reason"], "ScaleUpLimit");
  EXPECT_EQ(Condition(hpa, "ScalingLimited")["message"],
            "the desired replica count is increasing faster than the maximum scale rate");
  // Within the policy's period: no more.
  clock_.now += seconds(30);
  ASSERT_TRUE(Sync().ok());
  EXPECT_EQ(DeploymentReplicas(), 3);
  clock_.now += seconds(31);
  ASSERT_TRUE(Sync().ok());
  EXPECT_EQ(DeploymentReplicas(), 4);
}

TEST_F(HorizontalTest, MissingMetricsAndTargets) {
  MakeDeployment(2, 2);
  MakeHPA(kHorizontalPodAutoscalers, V2(1, 5, 50));
  Status s = Sync();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(DeploymentReplicas(), 2);
  Json hpa = HPA();
  EXPECT_EQ(Condition(hpa, "AbleToScale")["reason"], "SucceededGetScale");
  EXPECT_EQ(Condition(hpa, "ScalingActive")["status"], "False");
  EXPECT_EQ(Condition(hpa, "ScalingActive")["reason"], "FailedGetResourceMetric");
  EXPECT_EQ(Condition(hpa, "ScalingActive")["message"],
            "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics "
            "for resource cpu: no metrics returned from resource metrics API");
  EXPECT_EQ(hpa["status"]["currentMetrics"], Json::parse(R"([{"type": ""}])"));
  EXPECT_EQ(hpa["status"]["currentReplicas"], 2);
  EXPECT_EQ(EventMessage("FailedComputeMetricsReplicas"),
            "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed "
            "to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource "
            "metrics API");

  // A target that does not exist.
  Json other = V2(1, 5, 50);
  other["metadata"]["name"] = "ghost";
  other["spec"]["scaleTargetRef"]["name"] = "ghost";
  MakeHPA(kHorizontalPodAutoscalers, other);
  EXPECT_FALSE(Sync("ghost").ok());
  hpa = HPA(kHorizontalPodAutoscalers, "ghost");
  EXPECT_EQ(Condition(hpa, "AbleToScale")["status"], "False");
  EXPECT_EQ(Condition(hpa, "AbleToScale")["reason"], "FailedGetScale");
  EXPECT_EQ(Condition(hpa, "AbleToScale")["message"],
            "the HPA controller was unable to get the target's current scale: deployments.apps \"ghost\" not found");

  // A kind nobody serves.
  Json odd = V2(1, 5, 50);
  odd["metadata"]["name"] = "odd";
  odd["spec"]["scaleTargetRef"] = {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"name", "w"}};
  MakeHPA(kHorizontalPodAutoscalers, odd);
  EXPECT_FALSE(Sync("odd").ok());
  EXPECT_EQ(Condition(HPA(kHorizontalPodAutoscalers, "odd"), "AbleToScale")["message"],
            "the HPA controller was unable to get the target's current scale: no matches for kind \"Widget\" in group "
            "\"example.com\"");
}

TEST_F(HorizontalTest, OutOfRangeAndDisabled) {
  MakeDeployment(7, 2);
  SetUsage({{"web-0", 50}, {"web-1", 50}});
  MakeHPA(kHorizontalPodAutoscalers, V2(1, 5, 50));
  ASSERT_TRUE(Sync().ok());
  EXPECT_EQ(DeploymentReplicas(), 5);
  EXPECT_EQ(EventMessage("SuccessfulRescale"), "New size: 5; reason: Current number of replicas above Spec.MaxReplicas");

  // Scaled to zero by hand: autoscaling stops.
  Json scale = *c_->GetPath(kDeployments.Path("default", "web", "scale"));
  scale["spec"]["replicas"] = 0;
  ASSERT_TRUE(c_->Update(kDeployments, "default", scale, "scale").ok());
  clock_.now += seconds(15);
  ASSERT_TRUE(Sync().ok());
  EXPECT_EQ(DeploymentReplicas(), 0);
  Json hpa = HPA();
  EXPECT_EQ(Condition(hpa, "ScalingActive")["reason"], "ScalingDisabled");
  EXPECT_EQ(Condition(hpa, "ScalingActive")["message"],
            "scaling is disabled since the replica count of the target is zero");
  EXPECT_EQ(hpa["status"]["desiredReplicas"], 0);
}

TEST_F(HorizontalTest, TwoHPAsOnTheSamePods) {
  MakeDeployment(2, 2);
  SetUsage({{"web-0", 50}, {"web-1", 50}});
  MakeHPA(kHorizontalPodAutoscalers, V2(1, 5, 50));
  Json second = V2(1, 5, 50);
  second["metadata"]["name"] = "web-too";
  MakeHPA(kHorizontalPodAutoscalers, second);
  ASSERT_TRUE(Sync().ok());
  EXPECT_FALSE(Sync("web-too").ok());
  Json hpa = HPA(kHorizontalPodAutoscalers, "web-too");
  EXPECT_EQ(Condition(hpa, "ScalingActive")["reason"], "AmbiguousSelector");
  EXPECT_EQ(Condition(hpa, "ScalingActive")["message"],
            "pods by selector app=web are controlled by multiple HPAs: [default/web default/web-too]");
}

TEST_F(HorizontalTest, DeletedHPAIsForgotten) {
  EXPECT_TRUE(hpa_->SyncHPA("default/nothing").ok());
}

}  // namespace
}  // namespace kubes::controller::podautoscaler
