// The stabilization window and the scaling policies, driven by a fake clock. The
// min/max table and the stabilization table are upstream's (horizontal_test.go:
// TestConvertDesiredReplicasWithRules, TestNormalizeDesiredReplicas); the behavior
// cases follow the HPA documentation's rules.
#include "controller/podautoscaler/normalize.h"

#include <gtest/gtest.h>

namespace kubes::controller::podautoscaler {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

class FakeClock : public Clock {
 public:
  TimePoint Now() const override { return now; }
  TimePoint now = TimePoint(seconds(1700000000));
};

TEST(ConvertDesiredReplicasWithRules, UpstreamCases) {
  struct Case {
    int32_t current, desired, min, max, want;
    const char* reason;
  } cases[] = {
      {5, 7, 3, 8, 7, "DesiredWithinRange"},
      {3, 1, 2, 8, 2, "TooFewReplicas"},
      {1, 0, 0, 10, 0, "DesiredWithinRange"},
      {20, 1000, 1, 10, 10, "TooManyReplicas"},  // maxReplicas is below the scale-up limit
      {3, 1000, 1, 2000, 6, "ScaleUpLimit"},     // at most double (and at least 4)
      {1, 1000, 1, 2000, 4, "ScaleUpLimit"},
  };
  for (const auto& c : cases) {
    Limited l = ConvertDesiredReplicasWithRules(c.current, c.desired, c.min, c.max);
    EXPECT_EQ(l.replicas, c.want) << c.current << " → " << c.desired;
    EXPECT_EQ(l.reason, c.reason) << c.current << " → " << c.desired;
  }
}

TEST(ReplicaNormalizer, StabilizationWithoutBehavior) {
  struct Case {
    const char* name;
    std::vector<std::pair<int32_t, minutes>> history;  // recommendation, how long ago
    int32_t desired, want;
  } cases[] = {
      {"empty log", {}, 5, 5},
      {"stabilize", {{4, minutes(2)}, {5, minutes(1)}}, 3, 5},
      {"no stabilize", {{1, minutes(2)}, {2, minutes(1)}}, 3, 3},
      {"no stabilize - old recommendations", {{10, minutes(10)}, {9, minutes(9)}}, 3, 3},
      {"stabilize - old recommendations", {{10, minutes(10)}, {4, minutes(1)}, {5, minutes(2)}, {9, minutes(9)}}, 3, 5},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeClock clock;
    ReplicaNormalizer n(minutes(5), clock);
    TimePoint now = clock.now;
    // Record the history in time order.
    auto history = c.history;
    std::sort(history.begin(), history.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [replicas, ago] : history) {
      clock.now = now - ago;
      (void)n.NormalizeDesiredReplicas("ns/hpa", replicas, replicas, 0, 100);
    }
    clock.now = now;
    Normalized r = n.NormalizeDesiredReplicas("ns/hpa", 10, c.desired, 0, 100);
    EXPECT_EQ(r.replicas, c.want);
    EXPECT_EQ(r.able_reason, c.want != c.desired ? "ScaleDownStabilized" : "ReadyForNewScale");
  }
}

TEST(ReplicaNormalizer, InitialRecommendationHoldsAScaleDown) {
  FakeClock clock;
  ReplicaNormalizer n(minutes(5), clock);
  n.RecordInitialRecommendation("ns/hpa", 6);
  EXPECT_EQ(n.NormalizeDesiredReplicas("ns/hpa", 6, 2, 1, 10).replicas, 6);
  clock.now += minutes(5) + seconds(1);
  Normalized r = n.NormalizeDesiredReplicas("ns/hpa", 6, 2, 1, 10);
  EXPECT_EQ(r.replicas, 2);
  EXPECT_EQ(r.able_reason, "ReadyForNewScale");
  EXPECT_FALSE(r.limited);
  EXPECT_EQ(r.limited_reason, "DesiredWithinRange");
}

TEST(BehaviorFromSpec, Defaults) {
  Behavior d = BehaviorFromSpec(Json(), seconds(300));
  EXPECT_EQ(d.scale_up.stabilization_window_seconds, 0);
  EXPECT_EQ(d.scale_up.select_policy, "Max");
  ASSERT_EQ(d.scale_up.policies.size(), 2u);
  EXPECT_EQ(d.scale_up.policies[0].type, "Pods");
  EXPECT_EQ(d.scale_up.policies[0].value, 4);
  EXPECT_EQ(d.scale_up.policies[1].type, "Percent");
  EXPECT_EQ(d.scale_up.policies[1].value, 100);
  EXPECT_EQ(d.scale_down.stabilization_window_seconds, 300);
  ASSERT_EQ(d.scale_down.policies.size(), 1u);
  EXPECT_EQ(d.scale_down.policies[0].period_seconds, 15);
  // A field set replaces its default; the rest stays.
  Behavior b = BehaviorFromSpec(Json::parse(R"({"scaleDown": {"stabilizationWindowSeconds": 0,
      "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}, "scaleUp": {"selectPolicy": "Disabled"}})"),
                                seconds(300));
  EXPECT_EQ(b.scale_down.stabilization_window_seconds, 0);
  EXPECT_EQ(b.scale_down.policies.size(), 1u);
  EXPECT_EQ(b.scale_down.policies[0].type, "Pods");
  EXPECT_EQ(b.scale_up.select_policy, "Disabled");
  EXPECT_EQ(b.scale_up.policies.size(), 2u);
}

// One normalization with behavior, no history: what the policies allow from current.
struct RateCase {
  const char* name;
  const char* behavior;  // spec.behavior as JSON
  int32_t min, max, current, desired, want;
  const char* limited_reason;
};

TEST(ReplicaNormalizer, PoliciesLimitTheRate) {
  // Scale-down cases use no window, so that only the policies act.
  RateCase cases[] = {
      {"scaleUp with default behavior", "{}", 1, 1000, 10, 50, 20, "ScaleUpLimit"},
      {"scaleUp: Pods allows more than Percent", R"({"scaleUp": {"policies": [
          {"type": "Pods", "value": 100, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]}})",
       1, 1000, 10, 500, 110, "ScaleUpLimit"},
      {"scaleUp: Percent allows more than Pods", R"({"scaleUp": {"policies": [
          {"type": "Pods", "value": 2, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]}})",
       1, 1000, 10, 500, 20, "ScaleUpLimit"},
      {"scaleUp: selectPolicy Min takes the smaller", R"({"scaleUp": {"selectPolicy": "Min", "policies": [
          {"type": "Pods", "value": 2, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]}})",
       1, 1000, 10, 500, 12, "ScaleUpLimit"},
      {"scaleUp: maxReplicas below the policy", R"({"scaleUp": {"policies": [{"type": "Pods", "value": 100, "periodSeconds": 15}]}})",
       1, 30, 10, 50, 30, "TooManyReplicas"},
      {"scaleUp: within the policy", R"({"scaleUp": {"policies": [{"type": "Percent", "value": 10000, "periodSeconds": 15}]}})",
       1, 1000, 10, 50, 50, "DesiredWithinRange"},
      {"scaleUp disabled", R"({"scaleUp": {"selectPolicy": "Disabled"}})", 1, 1000, 10, 50, 10, "ScaleUpLimit"},
      {"scaleDown: Pods removes more than Percent", R"({"scaleDown": {"stabilizationWindowSeconds": 0, "policies": [
          {"type": "Pods", "value": 20, "periodSeconds": 15}, {"type": "Percent", "value": 1, "periodSeconds": 15}]}})",
       1, 1000, 100, 2, 80, "ScaleDownLimit"},
      {"scaleDown: selectPolicy Min removes less", R"({"scaleDown": {"stabilizationWindowSeconds": 0, "selectPolicy": "Min",
          "policies": [{"type": "Pods", "value": 20, "periodSeconds": 15}, {"type": "Percent", "value": 1, "periodSeconds": 15}]}})",
       1, 1000, 100, 2, 99, "ScaleDownLimit"},
      {"scaleDown: minReplicas", R"({"scaleDown": {"stabilizationWindowSeconds": 0}})", 5, 1000, 10, 2, 5, "TooFewReplicas"},
      {"scaleDown: Pods limit", R"({"scaleDown": {"stabilizationWindowSeconds": 0, "policies": [
          {"type": "Pods", "value": 5, "periodSeconds": 15}]}})", 1, 1000, 10, 2, 5, "ScaleDownLimit"},
      {"scaleDown: Percent limit", R"({"scaleDown": {"stabilizationWindowSeconds": 0, "policies": [
          {"type": "Percent", "value": 50, "periodSeconds": 15}]}})", 1, 1000, 10, 2, 5, "ScaleDownLimit"},
      {"scaleDown disabled", R"({"scaleDown": {"stabilizationWindowSeconds": 0, "selectPolicy": "Disabled"}})",
       1, 1000, 10, 2, 10, "ScaleDownLimit"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeClock clock;
    ReplicaNormalizer n(seconds(300), clock);
    Behavior b = BehaviorFromSpec(Json::parse(c.behavior), seconds(300));
    Normalized r = n.NormalizeDesiredReplicasWithBehaviors("ns/hpa", b, c.current, c.desired, c.min, c.max);
    EXPECT_EQ(r.replicas, c.want);
    EXPECT_EQ(r.limited_reason, c.limited_reason);
    EXPECT_EQ(r.limited, c.want != c.desired);
    EXPECT_EQ(r.able_reason, "ReadyForNewScale");
  }
}

TEST(ReplicaNormalizer, PolicyPeriodsCountPastChanges) {
  FakeClock clock;
  ReplicaNormalizer n(seconds(300), clock);
  Behavior b = BehaviorFromSpec(
      Json::parse(R"({"scaleUp": {"policies": [{"type": "Pods", "value": 4, "periodSeconds": 60}]}})"), seconds(300));
  Normalized r = n.NormalizeDesiredReplicasWithBehaviors("ns/hpa", b, 10, 100, 1, 1000);
  ASSERT_EQ(r.replicas, 14);
  n.StoreScaleEvent("ns/hpa", b, 10, 14);
  // 30 s later the period still holds the 4 added: no more room.
  clock.now += seconds(30);
  r = n.NormalizeDesiredReplicasWithBehaviors("ns/hpa", b, 14, 100, 1, 1000);
  EXPECT_EQ(r.replicas, 14);
  EXPECT_EQ(r.limited_reason, "ScaleUpLimit");
  // Once the period has passed, four more.
  clock.now += seconds(31);
  r = n.NormalizeDesiredReplicasWithBehaviors("ns/hpa", b, 14, 100, 1, 1000);
  EXPECT_EQ(r.replicas, 18);
  n.StoreScaleEvent("ns/hpa", b, 14, 18);
  // A scale-down in the same period gives its replicas back to the scale-up budget.
  Behavior down_too = BehaviorFromSpec(Json::parse(R"({"scaleUp": {"policies": [{"type": "Pods", "value": 4,
      "periodSeconds": 60}]}, "scaleDown": {"stabilizationWindowSeconds": 0}})"), seconds(300));
  clock.now += seconds(1);
  n.StoreScaleEvent("ns/hpa", down_too, 18, 16);
  r = n.NormalizeDesiredReplicasWithBehaviors("ns/hpa", down_too, 16, 100, 1, 1000);
  EXPECT_EQ(r.replicas, 18);  // period start: 16 - 4 + 2 = 14, + 4
}

TEST(ReplicaNormalizer, StabilizationWindowsWithBehavior) {
  FakeClock clock;
  ReplicaNormalizer n(seconds(300), clock);
  Behavior b = BehaviorFromSpec(
      Json::parse(R"({"scaleUp": {"stabilizationWindowSeconds": 60}, "scaleDown": {"stabilizationWindowSeconds": 60}})"),
      seconds(300));
  // A recommendation of 5 half a minute ago caps a scale-up from 3 to 8 at 5.
  (void)n.NormalizeDesiredReplicasWithBehaviors("ns/hpa", b, 3, 5, 1, 100);
  clock.now += seconds(30);
  Normalized r = n.NormalizeDesiredReplicasWithBehaviors("ns/hpa", b, 3, 8, 1, 100);
  EXPECT_EQ(r.replicas, 5);
  EXPECT_EQ(r.able_reason, "ScaleUpStabilized");
  EXPECT_EQ(r.able_message, "recent recommendations were lower than current one, applying the lowest recent recommendation");
  // A scale-down from 8 waits for the window: 8 was recommended 0 s ago.
  r = n.NormalizeDesiredReplicasWithBehaviors("ns/hpa", b, 8, 2, 1, 100);
  EXPECT_EQ(r.replicas, 8);
  EXPECT_EQ(r.able_reason, "ScaleDownStabilized");
  clock.now += seconds(61);
  r = n.NormalizeDesiredReplicasWithBehaviors("ns/hpa", b, 8, 2, 1, 100);
  EXPECT_EQ(r.replicas, 2);
  EXPECT_EQ(r.able_reason, "ReadyForNewScale");
  // Forgotten HPAs start over.
  n.Forget("ns/hpa");
  r = n.NormalizeDesiredReplicasWithBehaviors("ns/hpa", b, 8, 2, 1, 100);
  EXPECT_EQ(r.replicas, 2);
}

}  // namespace
}  // namespace kubes::controller::podautoscaler
