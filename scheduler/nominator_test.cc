// Nominator: nominations from the API and from the scheduler itself, and when they end.
#include "scheduler/nominator.h"

#include <gtest/gtest.h>

namespace kubes::scheduler {
namespace {

Json Pod(const std::string& nominated = "", const std::string& node = "") {
  Json pod = {{"metadata", {{"name", "p"}, {"namespace", "default"}, {"uid", "u1"}}},
              {"spec", Json::object()},
              {"status", Json::object()}};
  if (!nominated.empty()) pod["status"]["nominatedNodeName"] = nominated;
  if (!node.empty()) pod["spec"]["nodeName"] = node;
  return pod;
}

PodPtr Ptr(Json pod) { return std::make_shared<const Json>(std::move(pod)); }

TEST(NominatorTest, FollowsTheAPIAndKeepsItsOwnNominationUntilOverridden) {
  Nominator n;
  n.AddOrUpdate(nullptr, Ptr(Pod()));
  EXPECT_EQ(n.NominatedNode("u1"), "");
  EXPECT_TRUE(n.Snapshot().empty());

  // The scheduler nominates; an update that predates the patch keeps it.
  n.Nominate(Ptr(Pod()), "n1");
  Json before = Pod();
  n.AddOrUpdate(&before, Ptr(Pod()));
  EXPECT_EQ(n.NominatedNode("u1"), "n1");
  ASSERT_EQ(n.Snapshot()["n1"].size(), 1u);

  // The API moves it; then clears it.
  Json on_n1 = Pod("n1");
  n.AddOrUpdate(&on_n1, Ptr(Pod("n2")));
  EXPECT_EQ(n.NominatedNode("u1"), "n2");
  Json on_n2 = Pod("n2");
  n.AddOrUpdate(&on_n2, Ptr(Pod()));
  EXPECT_EQ(n.NominatedNode("u1"), "");

  // Bound: no longer nominated anywhere.
  n.AddOrUpdate(nullptr, Ptr(Pod("n1")));
  EXPECT_EQ(n.NominatedNode("u1"), "n1");
  n.AddOrUpdate(&on_n1, Ptr(Pod("n1", "n1")));
  EXPECT_EQ(n.NominatedNode("u1"), "");

  n.Nominate(Ptr(Pod()), "n1");
  n.Delete("u1");
  EXPECT_TRUE(n.Snapshot().empty());
}

}  // namespace
}  // namespace kubes::scheduler
