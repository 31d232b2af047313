#include "scheduler/cache.h"

#include <gtest/gtest.h>

namespace kubes::scheduler {
namespace {

Json Node(const std::string& name) {
  return {{"metadata", {{"name", name}}}, {"status", {{"allocatable", {{"cpu", "4"}, {"pods", "10"}}}}}};
}

Json Pod(const std::string& uid, const std::string& node, const std::string& cpu = "1") {
  Json pod = {{"metadata", {{"name", uid}, {"namespace", "default"}, {"uid", uid}}},
              {"spec", {{"containers", {{{"name", "c"}, {"resources", {{"requests", {{"cpu", cpu}}}}}}}}}},
              {"status", {{"phase", "Pending"}}}};
  if (!node.empty()) pod["spec"]["nodeName"] = node;
  return pod;
}

// cpu requested per node name in a snapshot.
std::map<std::string, int64_t> Requested(const Cache& c) {
  std::map<std::string, int64_t> out;
  for (const auto& n : c.Snapshot()) out[n.name()] = n.requested().milli_cpu;
  return out;
}

TEST(CacheTest, BoundPodsCountOnTheirNode) {
  Cache c;
  c.AddOrUpdatePod(Pod("early", "n1"));  // before its node is known: kept, not shown
  EXPECT_TRUE(c.Snapshot().empty());
  c.AddOrUpdateNode(Node("n1"));
  c.AddOrUpdateNode(Node("n2"));
  c.AddOrUpdatePod(Pod("pending", ""));  // not bound: counts nowhere
  EXPECT_EQ(Requested(c), (std::map<std::string, int64_t>{{"n1", 1000}, {"n2", 0}}));
  c.AddOrUpdatePod(Pod("early", "n1", "2"));  // an update replaces
  EXPECT_EQ(Requested(c)["n1"], 2000);
  c.RemovePod(Pod("early", "n1"));
  EXPECT_EQ(Requested(c)["n1"], 0);
}

TEST(CacheTest, FinishedPodsFreeTheirRequests) {
  Cache c;
  c.AddOrUpdateNode(Node("n1"));
  Json pod = Pod("job", "n1");
  c.AddOrUpdatePod(pod);
  EXPECT_EQ(Requested(c)["n1"], 1000);
  pod["status"]["phase"] = "Succeeded";
  c.AddOrUpdatePod(pod);
  EXPECT_EQ(Requested(c)["n1"], 0);
  EXPECT_EQ(c.Snapshot()[0].num_pods(), 0u);
}

TEST(CacheTest, AssumedPodsCountUntilConfirmedOrForgotten) {
  Cache c;
  c.AddOrUpdateNode(Node("n1"));
  Json pod = Pod("p", "");
  c.AssumePod(pod, "n1");
  EXPECT_TRUE(c.IsAssumed("p"));
  EXPECT_EQ(Requested(c)["n1"], 1000);
  // The informer still shows the pod unbound (its watch is behind): stays assumed.
  c.AddOrUpdatePod(pod);
  EXPECT_TRUE(c.IsAssumed("p"));
  EXPECT_EQ(Requested(c)["n1"], 1000);
  // The binding arrives: confirmed, counted once.
  c.AddOrUpdatePod(Pod("p", "n1"));
  EXPECT_FALSE(c.IsAssumed("p"));
  EXPECT_EQ(Requested(c)["n1"], 1000);
  EXPECT_EQ(c.Snapshot()[0].num_pods(), 1u);

  // A failed binding: forgotten.
  c.AssumePod(Pod("q", ""), "n1");
  EXPECT_EQ(Requested(c)["n1"], 2000);
  c.ForgetPod("q");
  EXPECT_FALSE(c.IsAssumed("q"));
  EXPECT_EQ(Requested(c)["n1"], 1000);
  // Forget leaves confirmed pods alone.
  c.ForgetPod("p");
  EXPECT_EQ(Requested(c)["n1"], 1000);
}

TEST(CacheTest, RemovedNodesDisappearButTheirPodsComeBackWithThem) {
  Cache c;
  c.AddOrUpdateNode(Node("n1"));
  c.AddOrUpdatePod(Pod("p", "n1"));
  c.RemoveNode("n1");
  EXPECT_TRUE(c.Snapshot().empty());
  c.AddOrUpdateNode(Node("n1"));
  EXPECT_EQ(Requested(c)["n1"], 1000);
  c.RemovePod(Pod("p", "n1"));
  c.RemoveNode("n1");
  EXPECT_TRUE(c.Snapshot().empty());
}

}  // namespace
}  // namespace kubes::scheduler
