// DefaultPreemption on hand-built nodes: which pods are chosen as victims, in which
// order they are reprieved, which node wins, how budgets are counted, and who may
// preempt at all.
#include "scheduler/framework/plugins/defaultpreemption.h"

#include <gtest/gtest.h>

#include "scheduler/schedule_one.h"

namespace kubes::scheduler {
namespace {

Json Node(const std::string& name, const std::string& cpu = "2", Json spec = Json::object()) {
  return {{"metadata", {{"name", name}}},
          {"spec", spec},
          {"status", {{"allocatable", {{"cpu", cpu}, {"memory", "4Gi"}, {"pods", "110"}}}}}};
}

// A pod of this priority asking for cpu; `started` is its status.startTime.
Json Pod(const std::string& name, int64_t priority, const std::string& cpu, const std::string& node = "",
         const std::string& started = "2024-01-01T00:00:00Z", Json labels = Json::object()) {
  Json pod = {{"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}, {"labels", labels}}},
              {"spec",
               {{"priority", priority},
                {"containers", {{{"name", "app"}, {"resources", {{"requests", {{"cpu", cpu}}}}}}}}}},
              {"status", {{"startTime", started}}}};
  if (!node.empty()) pod["spec"]["nodeName"] = node;
  return pod;
}

Json Pdb(const std::string& name, Json match_labels, int64_t allowed, const std::string& ns = "default",
         Json disrupted = Json::object()) {
  return {{"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", {{"selector", {{"matchLabels", match_labels}}}}},
          {"status", {{"disruptionsAllowed", allowed}, {"disruptedPods", disrupted}}}};
}

PodPtr Ptr(Json pod) { return std::make_shared<const Json>(std::move(pod)); }

std::vector<std::string> Names(const std::vector<PodPtr>& pods) {
  std::vector<std::string> out;
  for (const PodPtr& p : pods) out.push_back(StringAt(*p, {"metadata", "name"}));
  return out;
}

TEST(SelectVictimsOnNodeTest, FewestPodsReprievingTheMostImportantFirst) {
  struct Case {
    std::string name;
    std::vector<Json> pods;  // on a 2-cpu node
    Json preemptor;
    std::vector<std::string> want_victims;
    std::string want_reason;  // when no victims will do
  };
  std::vector<Case> cases = {
      {"the lowest goes, the middle one is reprieved",
       {Pod("a", 1, "1", "n"), Pod("b", 5, "500m", "n"), Pod("c", 10, "500m", "n")},
       Pod("p", 10, "1"),
       {"a"},
       ""},
      {"reprieve tries the higher priority first, even when it frees more",
       {Pod("x", 1, "500m", "n"), Pod("y", 2, "1", "n"), Pod("z", 100, "500m", "n")},
       Pod("p", 50, "1"),
       {"y"},
       ""},
      {"several victims, most important first",
       {Pod("a", 1, "1", "n"), Pod("b", 2, "1", "n")},
       Pod("p", 10, "2"),
       {"b", "a"},
       ""},
      {"equal priority is never a victim",
       {Pod("a", 10, "2", "n")},
       Pod("p", 10, "1"),
       {},
       kReasonNoVictims},
      {"evicting everything lower still is not enough",
       {Pod("a", 1, "1", "n"), Pod("h", 100, "1", "n")},
       Pod("p", 10, "2"),
       {},
       "Insufficient cpu"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    NodeVictims nv = SelectVictimsOnNode(c.preemptor, NodeInfo::New(Node("n"), c.pods), {}, {});
    EXPECT_EQ(Names(nv.victims.pods), c.want_victims);
    if (c.want_reason.empty()) {
      EXPECT_TRUE(nv.status.ok());
    } else {
      ASSERT_FALSE(nv.status.ok());
      EXPECT_EQ(nv.status.reasons, std::vector<std::string>{c.want_reason});
    }
  }
}

TEST(SelectVictimsOnNodeTest, BudgetProtectedPodsAreReprievedFirst) {
  // Same priority: without budgets the later-started pod is less important and goes.
  Json web = Pod("web", 1, "1", "n", "2024-01-01T00:00:10Z", {{"app", "web"}});
  Json batch = Pod("batch", 1, "1", "n", "2024-01-01T00:00:00Z");
  NodeInfo node = NodeInfo::New(Node("n"), {web, batch});
  Json preemptor = Pod("p", 10, "1");
  NodeVictims none = SelectVictimsOnNode(preemptor, node, {}, {});
  EXPECT_EQ(Names(none.victims.pods), std::vector<std::string>{"web"});
  EXPECT_EQ(none.victims.num_pdb_violations, 0);

  // A budget that allows no disruption of "web": it is tried first and stays.
  std::vector<Json> pdbs = {Pdb("web-pdb", {{"app", "web"}}, 0)};
  NodeVictims guarded = SelectVictimsOnNode(preemptor, node, pdbs, {});
  EXPECT_EQ(Names(guarded.victims.pods), std::vector<std::string>{"batch"});
  EXPECT_EQ(guarded.victims.num_pdb_violations, 0);

  // When both must go, the violation is counted.
  NodeVictims both = SelectVictimsOnNode(Pod("p", 10, "2"), node, pdbs, {});
  EXPECT_EQ(Names(both.victims.pods), (std::vector<std::string>{"batch", "web"}));
  EXPECT_EQ(both.victims.num_pdb_violations, 1);
}

TEST(FilterPodsWithPDBViolationTest, CountsEachBudgetDown) {
  Json l = {{"app", "web"}};
  std::vector<PodPtr> pods = {Ptr(Pod("w1", 0, "1", "n", "", l)), Ptr(Pod("w2", 0, "1", "n", "", l)),
                              Ptr(Pod("w3", 0, "1", "n", "", l)), Ptr(Pod("plain", 0, "1", "n"))};
  struct Case {
    std::string name;
    std::vector<Json> pdbs;
    std::vector<std::string> violating, non_violating;
  };
  std::vector<Case> cases = {
      {"no budgets", {}, {}, {"w1", "w2", "w3", "plain"}},
      {"one disruption allowed: the first goes free",
       {Pdb("b", l, 1)},
       {"w2", "w3"},
       {"w1", "plain"}},
      {"a pod the apiserver already let go does not count again",
       {Pdb("b", l, 1, "default", {{"w1", "2024-01-01T00:00:00Z"}})},
       {"w3"},
       {"w1", "w2", "plain"}},
      {"a budget of another namespace", {Pdb("b", l, 0, "other")}, {}, {"w1", "w2", "w3", "plain"}},
      {"an empty selector matches nothing", {Pdb("b", Json::object(), 0)}, {}, {"w1", "w2", "w3", "plain"}},
      {"two budgets: the tighter one decides",
       {Pdb("loose", l, 5), Pdb("tight", l, 2)},
       {"w3"},
       {"w1", "w2", "plain"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<PodPtr> violating, non_violating;
    FilterPodsWithPDBViolation(pods, c.pdbs, &violating, &non_violating);
    EXPECT_EQ(Names(violating), c.violating);
    EXPECT_EQ(Names(non_violating), c.non_violating);
  }
}

TEST(PickOneNodeForPreemptionTest, UpstreamOrderOfCriteria) {
  auto victims = [](std::vector<Json> pods, int64_t violations = 0) {
    Victims v;
    for (auto& p : pods) v.pods.push_back(Ptr(std::move(p)));
    v.num_pdb_violations = violations;
    return v;
  };
  const std::string t0 = "2024-01-01T00:00:00Z", t1 = "2024-01-01T00:01:00Z";
  struct Case {
    std::string name;
    std::map<std::string, Victims> candidates;
    std::string want;
  };
  std::vector<Case> cases = {
      {"fewest budget violations beat lower priorities",
       {{"a", victims({Pod("x", 1, "1")}, 1)}, {"b", victims({Pod("y", 5, "1")}, 0)}},
       "b"},
      {"lowest most important victim",
       {{"a", victims({Pod("x", 5, "1"), Pod("x2", 1, "1")})}, {"b", victims({Pod("y", 4, "1")})}},
       "b"},
      {"smallest sum of priorities",
       {{"a", victims({Pod("x", 5, "1"), Pod("x2", 3, "1")})}, {"b", victims({Pod("y", 5, "1"), Pod("y2", 2, "1")})}},
       "b"},
      {"negative priorities: fewer pods still win the sum",
       {{"a", victims({Pod("x", -5, "1"), Pod("x2", -5, "1")})}, {"b", victims({Pod("y", -5, "1")})}},
       "b"},
      {"latest start of the most important victims",
       {{"a", victims({Pod("x", 5, "1", "", t0)})}, {"b", victims({Pod("y", 5, "1", "", t1)})}},
       "b"},
      {"all equal: the first", {{"a", victims({Pod("x", 5, "1", "", t0)})}, {"b", victims({Pod("y", 5, "1", "", t0)})}},
       "a"},
      {"one candidate", {{"only", victims({Pod("x", 5, "1")}, 3)}}, "only"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(PickOneNodeForPreemption(c.candidates), c.want);
  }
}

// The filters' view of a node, as SchedulePod builds it.
PreemptionInputs Inputs(const std::map<std::string, PluginStatus>& statuses, const NominatedPods& nominated = {}) {
  static const std::vector<Json> kNoPdbs;
  return {&statuses, nullptr, &nominated, &kNoPdbs, nullptr};
}

TEST(PreemptTest, ChoosesTheNodeWithTheCheapestVictims) {
  std::vector<NodeInfo> nodes = {NodeInfo::New(Node("a"), {Pod("a1", 5, "2", "a")}),
                                 NodeInfo::New(Node("b"), {Pod("b1", 1, "1", "b"), Pod("b2", 1, "1", "b")}),
                                 NodeInfo::New(Node("t", "2", {{"unschedulable", true}}), {Pod("t1", 0, "2", "t")})};
  std::map<std::string, PluginStatus> statuses = {{"a", PluginStatus::Unschedulable({"Insufficient cpu"})},
                                                  {"b", PluginStatus::Unschedulable({"Insufficient cpu"})},
                                                  {"t", PluginStatus::Unresolvable(kErrReasonUnschedulable)}};
  PostFilterResult r = Preempt(Pod("p", 10, "1"), nodes, Inputs(statuses));
  ASSERT_TRUE(r.candidate);
  EXPECT_EQ(r.candidate->node, "b");  // its most important victim has priority 1, a's 5
  EXPECT_EQ(Names(r.candidate->victims.pods).size(), 1u);
  EXPECT_EQ(r.message, "");
}

TEST(PreemptTest, WhoMayPreempt) {
  std::vector<NodeInfo> nodes = {NodeInfo::New(Node("n"), {Pod("low", 1, "2", "n")})};
  std::map<std::string, PluginStatus> statuses = {{"n", PluginStatus::Unschedulable({"Insufficient cpu"})}};

  Json never = Pod("p", 10, "1");
  never["spec"]["preemptionPolicy"] = "Never";
  PostFilterResult r = Preempt(never, nodes, Inputs(statuses));
  EXPECT_FALSE(r.candidate);
  EXPECT_FALSE(r.clear_nomination);
  EXPECT_EQ(r.message, "preemption: not eligible due to preemptionPolicy=Never.");

  // Already nominated to "n", where a victim of that preemption is still terminating.
  Json terminating = Pod("low", 1, "2", "n");
  terminating["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  terminating["status"]["conditions"] = {
      {{"type", "DisruptionTarget"}, {"status", "True"}, {"reason", "PreemptionByScheduler"}}};
  std::vector<NodeInfo> waiting = {NodeInfo::New(Node("n"), {terminating})};
  Json nominated = Pod("p", 10, "1");
  nominated["status"]["nominatedNodeName"] = "n";
  r = Preempt(nominated, waiting, Inputs(statuses));
  EXPECT_FALSE(r.candidate);
  EXPECT_EQ(r.message, "preemption: not eligible due to a terminating pod on the nominated node.");
  // Not nominated there: the terminating pod is just another victim.
  r = Preempt(Pod("p", 10, "1"), waiting, Inputs(statuses));
  ASSERT_TRUE(r.candidate);
  EXPECT_EQ(r.candidate->node, "n");

  // Nothing of lower priority: no candidate, and the nomination is to be cleared.
  r = Preempt(Pod("p", 1, "1"), nodes, Inputs(statuses));
  EXPECT_FALSE(r.candidate);
  EXPECT_TRUE(r.clear_nomination);
  EXPECT_EQ(r.message, "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.");
}

TEST(NominatedPodsTest, RoomFreedForAHigherPriorityPodIsKept) {
  // 2 cpus, 1 used; a priority-100 pod waits for 1 cpu there (nominated).
  NodeInfo node = NodeInfo::New(Node("n"), {Pod("used", 100, "1", "n")});
  Json waiting = Pod("waiting", 100, "1");
  waiting["status"]["nominatedNodeName"] = "n";
  NominatedPods nominated = {{"n", {Ptr(waiting)}}};
  // A lower-priority pod does not get the room.
  PluginStatus low = RunFilterPluginsWithNominatedPods(Pod("low", 1, "1"), node, nominated);
  EXPECT_EQ(low.reasons, std::vector<std::string>{"Insufficient cpu"});
  // A pod of higher priority does (it would preempt the nominated one's claim).
  EXPECT_TRUE(RunFilterPluginsWithNominatedPods(Pod("high", 1000, "1"), node, nominated).ok());
  // The nominated pod itself is not counted twice.
  EXPECT_TRUE(RunFilterPluginsWithNominatedPods(waiting, node, nominated).ok());
  // Another node is not affected.
  EXPECT_TRUE(RunFilterPluginsWithNominatedPods(Pod("low", 1, "1"), NodeInfo::New(Node("m")), nominated).ok());

  // SchedulePod: the low pod waits; its message shows no victims (nothing lower).
  std::mt19937_64 rng(1);
  ScheduleResult r = SchedulePod(Pod("low", 1, "1"), {node}, rng, {}, nominated);
  EXPECT_EQ(r.suggested_host, "");
  EXPECT_EQ(r.message,
            "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption "
            "victims found for incoming pod.");
  // The waiting pod goes to its nominated node first.
  std::vector<NodeInfo> two = {NodeInfo::New(Node("m", "8")), node};
  EXPECT_EQ(SchedulePod(waiting, two, rng, {}, nominated).suggested_host, "n");
}

TEST(PreemptTest, SchedulePodReportsTheCandidate) {
  std::vector<NodeInfo> nodes = {NodeInfo::New(Node("n"), {Pod("low", 1, "1500m", "n")})};
  std::mt19937_64 rng(1);
  ScheduleResult r = SchedulePod(Pod("p", 10, "1"), nodes, rng);
  EXPECT_EQ(r.suggested_host, "");
  EXPECT_EQ(r.message, "0/1 nodes are available: 1 Insufficient cpu.");
  ASSERT_TRUE(r.post_filter.candidate);
  EXPECT_EQ(r.post_filter.candidate->node, "n");
  EXPECT_EQ(Names(r.post_filter.candidate->victims.pods), std::vector<std::string>{"low"});
}

}  // namespace
}  // namespace kubes::scheduler
