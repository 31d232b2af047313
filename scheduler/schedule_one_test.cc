// SchedulePod over hand-built snapshots: which node wins, and the exact message users
// see when none does.
#include "scheduler/schedule_one.h"

#include <gtest/gtest.h>

namespace kubes::scheduler {
namespace {

Json Node(const std::string& name, Json spec = Json::object(), Json labels = Json::object(),
          Json allocatable = {{"cpu", "2"}, {"memory", "4Gi"}, {"pods", "110"}}) {
  return {{"metadata", {{"name", name}, {"labels", labels}}}, {"spec", spec}, {"status", {{"allocatable", allocatable}}}};
}

Json Pod(const std::string& name, Json requests = Json::object(), Json spec = Json::object()) {
  spec["containers"] = {{{"name", "app"}, {"image", "busybox"}, {"resources", {{"requests", requests}}}}};
  return {{"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}}}, {"spec", spec}};
}

Json Taint(const std::string& key, const std::string& value = "", const std::string& effect = "NoSchedule") {
  return {{"key", key}, {"value", value}, {"effect", effect}};
}

Json WithPriority(Json pod, int64_t priority) {
  pod["spec"]["priority"] = priority;
  return pod;
}

// matchFields metadata.name In [name].
Json NameIn(const std::string& name) {
  return {{"key", "metadata.name"}, {"operator", "In"}, {"values", {name}}};
}

// A pod spec fragment with these required node affinity terms.
Json RequiredTerms(Json terms) {
  Json required = {{"nodeSelectorTerms", terms}};
  return {{"affinity", {{"nodeAffinity", {{"requiredDuringSchedulingIgnoredDuringExecution", required}}}}}};
}

std::string Message(const Json& pod, const std::vector<NodeInfo>& nodes) {
  std::mt19937_64 rng(1);
  ScheduleResult r = SchedulePod(pod, nodes, rng);
  EXPECT_EQ(r.suggested_host, "");
  return r.message;
}

TEST(SchedulePodTest, FitErrorMessages) {
  Json cpu = {{"cpu", "3"}};
  Json tainted = Node("t", {{"taints", {Taint("dedicated", "gpu")}}});
  struct Case {
    std::string name;
    Json pod;
    std::vector<NodeInfo> nodes;
    std::string want;
  };
  std::vector<Case> cases = {
      {"no nodes", Pod("p"), {}, "no nodes available to schedule pods"},
      {"taints and cpu, with preemption finding no victims",
       Pod("p", cpu),
       {NodeInfo::New(Node("a")), NodeInfo::New(tainted), NodeInfo::New(Node("b"))},
       "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: 0/3 "
       "nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."},
      {"several reasons from one node each count",
       Pod("p", {{"cpu", "3"}, {"memory", "5Gi"}}),
       {NodeInfo::New(Node("a"))},
       "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No "
       "preemption victims found for incoming pod."},
      {"only unresolvable reasons",
       Pod("p", Json::object(), {{"nodeSelector", {{"zone", "b"}}}}),
       {NodeInfo::New(Node("a")), NodeInfo::New(Node("b", {{"unschedulable", true}}))},
       "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable. "
       "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."},
      {"preemptionPolicy Never",
       Pod("p", cpu, {{"preemptionPolicy", "Never"}}),
       {NodeInfo::New(Node("a"))},
       "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."},
      {"matchFields narrows the nodes",
       Pod("p", cpu, RequiredTerms({{{"matchFields", {NameIn("a")}}}})),
       {NodeInfo::New(Node("a")), NodeInfo::New(Node("b")), NodeInfo::New(Node("c"))},
       "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/3 "
       "nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."},
      {"conflicting terms reject the pod in PreFilter",
       Pod("p", Json::object(), RequiredTerms({{{"matchFields", {NameIn("a"), NameIn("b")}}}})),
       {NodeInfo::New(Node("a")), NodeInfo::New(Node("b"))},
       "0/2 nodes are available: pod affinity terms conflict. preemption: 0/2 nodes are available: 2 Preemption is not "
       "helpful for scheduling."},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Message(c.pod, c.nodes), c.want);
  }
}

TEST(SchedulePodTest, PreemptionDryRunLooksAtLowerPriorityPods) {
  Json low = WithPriority(Pod("low", {{"cpu", "1500m"}}), 0);
  low["spec"]["nodeName"] = "a";
  Json high = WithPriority(Pod("high", {{"cpu", "1500m"}}), 100);
  high["spec"]["nodeName"] = "b";
  std::vector<NodeInfo> nodes = {NodeInfo::New(Node("a"), {low}), NodeInfo::New(Node("b"), {high})};
  // Same priority as the pods there: nothing to evict anywhere.
  EXPECT_EQ(Message(WithPriority(Pod("p", {{"cpu", "1"}}), 0), nodes),
            "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims "
            "found for incoming pod.");
  // Evicting "low" would still not make room for 3 cpus: the filters' reasons say why.
  EXPECT_EQ(Message(WithPriority(Pod("p", {{"cpu", "3"}}), 50), nodes),
            "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 1 Insufficient cpu, 1 No "
            "preemption victims found for incoming pod.");
  // Evicting "low" would make room: upstream preempts and its message has no preemption part.
  EXPECT_EQ(Message(WithPriority(Pod("p", {{"cpu", "1"}}), 50), nodes), "0/2 nodes are available: 2 Insufficient cpu.");
}

TEST(SchedulePodTest, ReasonsSortAsStrings) {
  Diagnosis d;
  for (int i = 0; i < 10; ++i) d.node_to_status["n" + std::to_string(i)] = PluginStatus::Unschedulable({"b"});
  d.node_to_status["x"] = PluginStatus::Unschedulable({"a"});
  d.node_to_status["y"] = PluginStatus::Unschedulable({"a"});
  EXPECT_EQ(FitErrorMessage(12, d), "0/12 nodes are available: 10 b, 2 a.");
}

TEST(SchedulePodTest, PicksTheOnlyFeasibleNode) {
  std::vector<NodeInfo> nodes = {NodeInfo::New(Node("a", {{"taints", {Taint("x")}}})), NodeInfo::New(Node("b")),
                                 NodeInfo::New(Node("c", {{"unschedulable", true}}))};
  std::mt19937_64 rng(7);
  ScheduleResult r = SchedulePod(Pod("p"), nodes, rng);
  EXPECT_EQ(r.suggested_host, "b");
  EXPECT_EQ(r.message, "");
}

TEST(SchedulePodTest, ScoresPreferEmptyNodesAffinityAndFewerSoftTaints) {
  struct Case {
    std::string name;
    Json pod;
    std::vector<NodeInfo> nodes;
    std::string want;
  };
  Json busy = Pod("busy", {{"cpu", "1500m"}, {"memory", "3Gi"}});
  busy["spec"]["nodeName"] = "a";
  Json prefer_b = {{"nodeAffinity",
                    {{"preferredDuringSchedulingIgnoredDuringExecution",
                      {{{"weight", 1}, {"preference", {{"matchExpressions", {{{"key", "zone"}, {"operator", "In"}, {"values", {"b"}}}}}}}}}}}}};
  std::vector<Case> cases = {
      {"least allocated", Pod("p", {{"cpu", "100m"}}), {NodeInfo::New(Node("a"), {busy}), NodeInfo::New(Node("b"))}, "b"},
      {"preferred affinity", Pod("p", Json::object(), {{"affinity", prefer_b}}),
       {NodeInfo::New(Node("a", {}, {{"zone", "a"}})), NodeInfo::New(Node("b", {}, {{"zone", "b"}}))}, "b"},
      {"fewer PreferNoSchedule taints",
       Pod("p"),
       {NodeInfo::New(Node("a", {{"taints", {Taint("soft", "", "PreferNoSchedule")}}})), NodeInfo::New(Node("b"))},
       "b"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    for (uint64_t seed = 0; seed < 5; ++seed) {
      std::mt19937_64 rng(seed);
      EXPECT_EQ(SchedulePod(c.pod, c.nodes, rng).suggested_host, c.want);
    }
  }
}

TEST(SchedulePodTest, TiesAreBrokenAtRandom) {
  std::vector<NodeScore> scores = {{"a", 10}, {"b", 50}, {"c", 50}, {"d", 50}, {"e", 5}};
  std::map<std::string, int> picked;
  std::mt19937_64 rng(42);
  for (int i = 0; i < 3000; ++i) ++picked[SelectHost(scores, rng)];
  EXPECT_EQ(picked.size(), 3u);  // only b, c and d
  for (const char* n : {"b", "c", "d"}) {
    EXPECT_GT(picked[n], 800) << n;  // about 1000 each
  }
}

TEST(SchedulePodTest, TruncateMessage) {
  EXPECT_EQ(TruncateMessage("short"), "short");
  std::string long_message(2000, 'x');
  std::string t = TruncateMessage(long_message);
  EXPECT_EQ(t.size(), 1024u);
  EXPECT_EQ(t.substr(1020), " ...");
}

// VolumeBinding: a bound local volume pins the pod to its node; a missing claim keeps it
// from every node, in upstream's words.
TEST(SchedulePodTest, BoundLocalVolumesPinThePod) {
  std::vector<NodeInfo> nodes = {NodeInfo::New(Node("a", {}, {{"kubernetes.io/hostname", "a"}})),
                                 NodeInfo::New(Node("b", {}, {{"kubernetes.io/hostname", "b"}}))};
  Json pv = Json::parse(R"({"metadata": {"name": "pvc-1"}, "spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [
      {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["b"]}]}]}}}})");
  PodVolumes on_b{.unresolvable = "", .bound = {pv}};
  for (uint64_t seed = 0; seed < 8; ++seed) {  // never a: whatever the ties do
    std::mt19937_64 rng(seed);
    EXPECT_EQ(SchedulePod(Pod("p"), nodes, rng, on_b).suggested_host, "b");
  }
  EXPECT_EQ(VolumeBindingFilter(on_b, nodes[0]).reasons, std::vector<std::string>{kErrReasonVolumeNodeAffinityConflict});
  // Only a, and the volume on b: nothing fits; the conflict is not something
  // preemption could solve.
  std::mt19937_64 rng(1);
  ScheduleResult r = SchedulePod(Pod("p"), {nodes[0]}, rng, on_b);
  EXPECT_EQ(r.message,
            "0/1 nodes are available: 1 node(s) had volume node affinity conflict. preemption: 0/1 nodes are "
            "available: 1 Preemption is not helpful for scheduling.");
  // A volume without node affinity goes anywhere.
  PodVolumes anywhere{.unresolvable = "", .bound = {{{"metadata", {{"name", "nfs"}}}, {"spec", Json::object()}}}};
  EXPECT_TRUE(VolumeBindingFilter(anywhere, nodes[0]).ok());
  r = SchedulePod(Pod("p"), nodes, rng, {.unresolvable = "persistentvolumeclaim \"data\" not found", .bound = {}});
  EXPECT_EQ(r.suggested_host, "");
  EXPECT_EQ(r.message,
            "0/2 nodes are available: persistentvolumeclaim \"data\" not found. preemption: 0/2 nodes are "
            "available: 2 Preemption is not helpful for scheduling.");
}

}  // namespace
}  // namespace kubes::scheduler
