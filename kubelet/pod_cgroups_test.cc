#include "kubelet/pod_cgroups.h"

#include <gtest/gtest.h>

namespace kubes::kubelet {
namespace {

Json Pod(const std::string& qos, Json containers, Json init = Json::array()) {
  return {{"metadata", {{"uid", "u1"}}},
          {"spec", {{"containers", containers}, {"initContainers", init}}},
          {"status", {{"qosClass", qos}}}};
}

Json Container(Json requests, Json limits) {
  Json resources = Json::object();
  if (!requests.is_null()) resources["requests"] = requests;
  if (!limits.is_null()) resources["limits"] = limits;
  return {{"name", "c"}, {"resources", resources}};
}

TEST(PodCgroupsTest, SharesAndQuota) {
  struct {
    int64_t milli;
    uint64_t shares;
    int64_t quota;
  } cases[] = {{0, 2, 0}, {1, 2, 1000}, {5, 5, 1000}, {100, 102, 10000}, {500, 512, 50000}, {1000, 1024, 100000},
               {300000, 262144, 30000000}};
  for (const auto& c : cases) {
    EXPECT_EQ(MilliCPUToShares(c.milli), c.shares) << c.milli;
    EXPECT_EQ(MilliCPUToQuota(c.milli, kCPUPeriodUs), c.quota) << c.milli;
  }
  EXPECT_EQ(runtime::CPUSharesToWeight(2), 1u);
  EXPECT_EQ(runtime::CPUSharesToWeight(1024), 39u);
  EXPECT_EQ(runtime::CPUSharesToWeight(262144), 10000u);
}

TEST(PodCgroupsTest, PathsByQOSClass) {
  EXPECT_EQ(PodCgroupPath("/kubes-x", Pod("Guaranteed", Json::array())), "/kubes-x/podu1");
  EXPECT_EQ(PodCgroupPath("/kubes-x", Pod("Burstable", Json::array())), "/kubes-x/burstable/podu1");
  EXPECT_EQ(PodCgroupPath("/kubes-x", Pod("BestEffort", Json::array())), "/kubes-x/besteffort/podu1");
  EXPECT_EQ(PodCgroupCandidates("/kubes-x", "u1"),
            (std::vector<std::string>{"/kubes-x/podu1", "/kubes-x/burstable/podu1", "/kubes-x/besteffort/podu1"}));
}

TEST(PodCgroupsTest, ResourcesOfThePod) {
  // The QoS pods of the documentation's "Configure Quality of Service for Pods".
  Json guaranteed = Pod("Guaranteed", {Container({{"cpu", "700m"}, {"memory", "200Mi"}},
                                                 {{"cpu", "700m"}, {"memory", "200Mi"}})});
  auto r = PodCgroupResources(guaranteed);
  EXPECT_EQ(r.cpu_shares, 716u);
  EXPECT_EQ(r.cpu_quota_us, 70000);
  EXPECT_EQ(r.memory_limit, 200 << 20);

  Json burstable = Pod("Burstable", {Container({{"memory", "100Mi"}}, {{"memory", "200Mi"}})});
  r = PodCgroupResources(burstable);
  EXPECT_EQ(r.cpu_shares, 2u);
  EXPECT_FALSE(r.cpu_quota_us) << "not every container has a cpu limit";
  EXPECT_EQ(r.memory_limit, 200 << 20);

  // One container without a memory limit: no pod memory limit.
  Json mixed = Pod("Burstable", {Container({{"cpu", "250m"}}, {{"memory", "64Mi"}}), Container(nullptr, nullptr)});
  r = PodCgroupResources(mixed);
  EXPECT_EQ(r.cpu_shares, 256u);
  EXPECT_FALSE(r.memory_limit);

  // Init containers count by the larger of the largest init container and the app sum.
  Json init = Pod("Burstable", {Container({{"cpu", "100m"}}, {{"cpu", "200m"}})},
                  {Container({{"cpu", "500m"}}, {{"cpu", "1"}})});
  r = PodCgroupResources(init);
  EXPECT_EQ(r.cpu_shares, 512u);
  EXPECT_EQ(r.cpu_quota_us, 100000);

  r = PodCgroupResources(Pod("BestEffort", {Container(nullptr, nullptr)}));
  EXPECT_EQ(r.cpu_shares, 2u);
  EXPECT_FALSE(r.cpu_quota_us);
  EXPECT_FALSE(r.memory_limit);
}

TEST(PodCgroupsTest, BurstableClassSharesAddUpItsPods) {
  Json a = Pod("Burstable", {Container({{"cpu", "250m"}}, nullptr)});
  Json b = Pod("Burstable", {Container({{"cpu", "750m"}}, nullptr)});
  Json g = Pod("Guaranteed", {Container({{"cpu", "2"}, {"memory", "1Gi"}}, {{"cpu", "2"}, {"memory", "1Gi"}})});
  EXPECT_EQ(BurstableCgroupResources({&a, &b, &g}).cpu_shares, 1024u);
  EXPECT_EQ(BurstableCgroupResources({}).cpu_shares, 2u);
}

}  // namespace
}  // namespace kubes::kubelet
