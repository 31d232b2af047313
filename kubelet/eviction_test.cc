// Node-pressure eviction decisions: thresholds, ranking, messages.
#include "kubelet/eviction.h"

#include <gtest/gtest.h>

namespace kubes::kubelet {
namespace {

constexpr int64_t kMi = 1 << 20;

Json Pod(const std::string& name, const std::string& request = "", int priority = 0) {
  Json c = {{"name", "app"}, {"image", "busybox"}};
  if (!request.empty()) c["resources"] = {{"requests", {{"memory", request}}}};
  return {{"metadata", {{"name", name}}}, {"spec", {{"priority", priority}, {"containers", {c}}}}};
}

PodMemoryUse Use(Json pod, int64_t mi) { return {std::move(pod), mi * kMi, {{"app", mi * kMi}}}; }

TEST(Eviction, ParsesUpstreamThresholds) {
  auto t = ParseEvictionHard("memory.available<100Mi");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->Bytes(1 << 30), 100 * kMi);
  t = ParseEvictionHard("nodefs.available<10%,memory.available<5%");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->Bytes(1000 * kMi), 50 * kMi);
  EXPECT_EQ(t->quantity, "5%");
  t = ParseEvictionHard("nodefs.available<10%");  // no memory signal: no memory eviction
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->Bytes(1 << 30), 0);
  for (const char* bad : {"memory.available", "memory.available<lots", "memory.available<120%", "cpu.available<1"}) {
    EXPECT_FALSE(ParseEvictionHard(bad).ok()) << bad;
  }
}

TEST(Eviction, FormatsLikeResourceQuantity) {
  EXPECT_EQ(FormatBytes(100 * kMi), "100Mi");
  EXPECT_EQ(FormatBytes(100 * kMi + 1024), "102401Ki");
  EXPECT_EQ(FormatBytes(3 * (int64_t{1} << 30)), "3Gi");
  EXPECT_EQ(FormatBytes(1500), "1500");
  EXPECT_EQ(FormatBytes(0), "0");
}

TEST(Eviction, NothingAboveTheThreshold) {
  MemoryThreshold t = *ParseEvictionHard("memory.available<100Mi");
  EvictionPlan p = PlanMemoryEviction(t, 101 * kMi, 1024 * kMi, {Use(Pod("a"), 500)});
  EXPECT_FALSE(p.pressure);
  EXPECT_FALSE(p.victim);
  p = PlanMemoryEviction(t, 99 * kMi, 1024 * kMi, {});
  EXPECT_TRUE(p.pressure);
  EXPECT_FALSE(p.victim);
}

// BestEffort first (uses more than its zero request), then lower priority, then the
// largest use above the request; a pod within its request goes last.
TEST(Eviction, RanksAsUpstream) {
  MemoryThreshold t = *ParseEvictionHard("memory.available<100Mi");
  struct Case {
    const char* name;
    std::vector<PodMemoryUse> pods;
    std::string want;
  };
  const Case cases[] = {
      {"best effort before guaranteed, even when smaller",
       {Use(Pod("guaranteed", "600Mi"), 500), Use(Pod("besteffort"), 50)}, "besteffort"},
      {"over request before within request", {Use(Pod("within", "1Gi"), 900), Use(Pod("over", "10Mi"), 20)}, "over"},
      {"lower priority first among those over", {Use(Pod("high", "", 1000), 10), Use(Pod("low", "", 0), 5)}, "low"},
      {"then the largest excess", {Use(Pod("small", "100Mi"), 150), Use(Pod("big", "100Mi"), 400)}, "big"},
  };
  for (const Case& c : cases) {
    EvictionPlan p = PlanMemoryEviction(t, 50 * kMi, 1024 * kMi, c.pods);
    ASSERT_TRUE(p.victim) << c.name;
    EXPECT_EQ(c.pods[*p.victim].pod["metadata"]["name"], c.want) << c.name;
  }
}

TEST(Eviction, MessageAsUpstream) {
  MemoryThreshold t = *ParseEvictionHard("memory.available<100Mi");
  EvictionPlan p = PlanMemoryEviction(t, 92 * kMi, 1024 * kMi, {Use(Pod("hog"), 300)});
  EXPECT_EQ(p.message,
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: 92Mi. Container app was "
            "using 300Mi, request is 0, has larger consumption of memory. ");
}

}  // namespace
}  // namespace kubes::kubelet
