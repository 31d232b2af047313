// Each plugin on JSON pods and nodes, table-driven, with upstream's reason texts.
#include "scheduler/framework/plugins/plugins.h"

#include <gtest/gtest.h>

namespace kubes::scheduler {
namespace {

using Code = PluginStatus::Code;

Json Node(Json spec = Json::object(), Json labels = Json::object(),
          Json allocatable = {{"cpu", "4"}, {"memory", "8Gi"}, {"pods", "110"}}) {
  return {{"metadata", {{"name", "node-1"}, {"labels", labels}}},
          {"spec", spec},
          {"status", {{"allocatable", allocatable}}}};
}

Json Pod(Json spec = Json::object()) {
  if (!spec.contains("containers")) spec["containers"] = {{{"name", "app"}, {"image", "busybox"}}};
  return {{"metadata", {{"name", "p"}, {"namespace", "default"}, {"uid", "new"}}}, {"spec", spec}};
}

Json Requests(Json requests, Json spec = Json::object()) {
  spec["containers"] = {{{"name", "app"}, {"resources", {{"requests", requests}}}}};
  return Pod(spec);
}

struct FilterCase {
  std::string name;
  Json pod;
  Json node;
  Code code;
  std::vector<std::string> reasons;
};

void RunFilterCases(PluginStatus (*filter)(const Json&, const NodeInfo&), const std::vector<FilterCase>& cases,
                    const std::vector<Json>& existing = {}) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    PluginStatus s = filter(c.pod, NodeInfo::New(c.node, existing));
    EXPECT_EQ(s.code, c.code);
    EXPECT_EQ(s.reasons, c.reasons);
  }
}

TEST(NodeUnschedulableTest, CordonedNodesTakeOnlyPodsThatTolerateIt) {
  Json cordoned = Node({{"unschedulable", true}});
  Json toleration = {{"key", "node.kubernetes.io/unschedulable"}, {"operator", "Exists"}, {"effect", "NoSchedule"}};
  RunFilterCases(NodeUnschedulableFilter,
                 {
                     {"schedulable node", Pod(), Node(), Code::kSuccess, {}},
                     {"cordoned", Pod(), cordoned, Code::kUnschedulableAndUnresolvable, {"node(s) were unschedulable"}},
                     {"tolerated", Pod({{"tolerations", {toleration}}}), cordoned, Code::kSuccess, {}},
                     {"tolerate everything", Pod({{"tolerations", {{{"operator", "Exists"}}}}}), cordoned, Code::kSuccess, {}},
                     {"a NoExecute toleration does not do", Pod({{"tolerations", {{{"operator", "Exists"}, {"effect", "NoExecute"}}}}}),
                      cordoned, Code::kUnschedulableAndUnresolvable, {"node(s) were unschedulable"}},
                 });
}

TEST(NodeNameTest, OnlyTheNamedNode) {
  RunFilterCases(NodeNameFilter, {
                                     {"no name", Pod(), Node(), Code::kSuccess, {}},
                                     {"this node", Pod({{"nodeName", "node-1"}}), Node(), Code::kSuccess, {}},
                                     {"another node", Pod({{"nodeName", "node-2"}}), Node(), Code::kUnschedulableAndUnresolvable,
                                      {"node(s) didn't match the requested node name"}},
                                 });
}

TEST(TaintTolerationTest, ToleratesTaint) {
  Json taint = {{"key", "dedicated"}, {"value", "gpu"}, {"effect", "NoSchedule"}};
  struct Case {
    std::string name;
    Json toleration;
    bool want;
  };
  std::vector<Case> cases = {
      {"equal, same value", {{"key", "dedicated"}, {"operator", "Equal"}, {"value", "gpu"}, {"effect", "NoSchedule"}}, true},
      {"operator defaults to Equal", {{"key", "dedicated"}, {"value", "gpu"}}, true},
      {"other value", {{"key", "dedicated"}, {"value", "cpu"}}, false},
      {"exists ignores the value", {{"key", "dedicated"}, {"operator", "Exists"}}, true},
      {"other effect", {{"key", "dedicated"}, {"operator", "Exists"}, {"effect", "NoExecute"}}, false},
      {"empty key with Exists tolerates every taint", {{"operator", "Exists"}}, true},
      {"other key", {{"key", "zone"}, {"operator", "Exists"}}, false},
      {"unknown operator", {{"key", "dedicated"}, {"operator", "Gt"}, {"value", "gpu"}}, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ToleratesTaint(c.toleration, taint), c.want);
  }
}

TEST(TaintTolerationTest, FilterReportsTheFirstUntoleratedTaint) {
  Json tainted = Node({{"taints",
                        {{{"key", "soft"}, {"effect", "PreferNoSchedule"}},
                         {{"key", "dedicated"}, {"value", "gpu"}, {"effect", "NoSchedule"}},
                         {{"key", "node.kubernetes.io/not-ready"}, {"effect", "NoExecute"}}}}});
  Json tolerate_dedicated = {{"key", "dedicated"}, {"operator", "Exists"}};
  Json tolerate_not_ready = {{"key", "node.kubernetes.io/not-ready"}, {"operator", "Exists"},
                             {"effect", "NoExecute"}, {"tolerationSeconds", 300}};
  RunFilterCases(TaintTolerationFilter,
                 {
                     {"no taints", Pod(), Node(), Code::kSuccess, {}},
                     {"untolerated NoSchedule", Pod(), tainted, Code::kUnschedulableAndUnresolvable,
                      {"node(s) had untolerated taint {dedicated: gpu}"}},
                     {"the NoExecute one next", Pod({{"tolerations", {tolerate_dedicated}}}), tainted,
                      Code::kUnschedulableAndUnresolvable, {"node(s) had untolerated taint {node.kubernetes.io/not-ready: }"}},
                     {"all tolerated; PreferNoSchedule does not filter",
                      Pod({{"tolerations", {tolerate_dedicated, tolerate_not_ready}}}), tainted, Code::kSuccess, {}},
                 });
}

TEST(TaintTolerationTest, ScoreCountsUntoleratedPreferNoScheduleTaints) {
  Json node = Node({{"taints",
                     {{{"key", "a"}, {"effect", "PreferNoSchedule"}},
                      {{"key", "b"}, {"effect", "PreferNoSchedule"}},
                      {{"key", "c"}, {"effect", "NoSchedule"}}}}});
  EXPECT_EQ(TaintTolerationScore(Pod(), NodeInfo::New(node)), 2);
  EXPECT_EQ(TaintTolerationScore(Pod({{"tolerations", {{{"key", "a"}, {"operator", "Exists"}}}}}), NodeInfo::New(node)), 1);
  // A NoSchedule toleration does not count for PreferNoSchedule taints.
  EXPECT_EQ(TaintTolerationScore(Pod({{"tolerations", {{{"key", "a"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}}}}),
                                 NodeInfo::New(node)),
            2);
}

Json Required(Json terms) {
  return {{"nodeAffinity", {{"requiredDuringSchedulingIgnoredDuringExecution", {{"nodeSelectorTerms", terms}}}}}};
}
Json Expr(const std::string& key, const std::string& op, std::vector<std::string> values = {}) {
  Json e = {{"key", key}, {"operator", op}};
  if (!values.empty()) e["values"] = values;
  return e;
}

TEST(NodeAffinityTest, FilterNodeSelectorAndRequiredTerms) {
  Json labels = {{"zone", "a"}, {"disk", "ssd"}, {"cores", "8"}};
  Json node = Node(Json::object(), labels);
  auto term = [](Json exprs, Json fields = Json::array()) {
    Json t = Json::object();
    if (!exprs.empty()) t["matchExpressions"] = exprs;
    if (!fields.empty()) t["matchFields"] = fields;
    return t;
  };
  auto with = [&](Json terms) { return Pod({{"affinity", Required(terms)}}); };
  std::string no = kErrReasonNodeAffinity;
  Code bad = Code::kUnschedulableAndUnresolvable;
  RunFilterCases(NodeAffinityFilter,
                 {
                     {"nothing asked", Pod(), node, Code::kSuccess, {}},
                     {"nodeSelector matches", Pod({{"nodeSelector", {{"zone", "a"}}}}), node, Code::kSuccess, {}},
                     {"nodeSelector differs", Pod({{"nodeSelector", {{"zone", "b"}}}}), node, bad, {no}},
                     {"nodeSelector on a missing label", Pod({{"nodeSelector", {{"gpu", ""}}}}), node, bad, {no}},
                     {"In", with({term({Expr("zone", "In", {"a", "b"})})}), node, Code::kSuccess, {}},
                     {"NotIn", with({term({Expr("zone", "NotIn", {"a"})})}), node, bad, {no}},
                     {"NotIn on a missing label matches", with({term({Expr("gpu", "NotIn", {"x"})})}), node, Code::kSuccess, {}},
                     {"Exists", with({term({Expr("disk", "Exists")})}), node, Code::kSuccess, {}},
                     {"DoesNotExist", with({term({Expr("disk", "DoesNotExist")})}), node, bad, {no}},
                     {"Gt", with({term({Expr("cores", "Gt", {"4"})})}), node, Code::kSuccess, {}},
                     {"Gt false", with({term({Expr("cores", "Gt", {"8"})})}), node, bad, {no}},
                     {"Lt", with({term({Expr("cores", "Lt", {"16"})})}), node, Code::kSuccess, {}},
                     {"Gt on a non-number label", with({term({Expr("zone", "Gt", {"1"})})}), node, bad, {no}},
                     {"expressions in a term are ANDed", with({term({Expr("zone", "In", {"a"}), Expr("disk", "In", {"hdd"})})}),
                      node, bad, {no}},
                     {"terms are ORed", with({term({Expr("zone", "In", {"b"})}), term({Expr("disk", "In", {"ssd"})})}), node,
                      Code::kSuccess, {}},
                     {"matchFields metadata.name In", with({term(Json::array(), {Expr("metadata.name", "In", {"node-1"})})}),
                      node, Code::kSuccess, {}},
                     {"matchFields metadata.name NotIn", with({term(Json::array(), {Expr("metadata.name", "NotIn", {"node-1"})})}),
                      node, bad, {no}},
                     {"matchFields with two values cannot be parsed",
                      with({term(Json::array(), {Expr("metadata.name", "In", {"node-1", "node-2"})})}), node, bad, {no}},
                     {"an unknown operator cannot be parsed", with({term({Expr("zone", "Near", {"a"})})}), node, bad, {no}},
                     {"an empty term matches nothing", with({Json::object()}), node, bad, {no}},
                     {"no terms match nothing", with(Json::array()), node, bad, {no}},
                     {"selector and affinity both apply",
                      Pod({{"nodeSelector", {{"zone", "b"}}}, {"affinity", Required({term({Expr("disk", "Exists")})})}}), node,
                      bad, {no}},
                 });
}

TEST(NodeAffinityTest, PreFilterNarrowsToNamedNodes) {
  auto fields = [](std::vector<std::string> names) {
    return Json{{"matchFields", {Expr("metadata.name", "In", std::move(names))}}};
  };
  struct Case {
    std::string name;
    Json pod;
    bool ok;
    std::optional<std::set<std::string>> nodes;
  };
  std::vector<Case> cases = {
      {"no affinity", Pod(), true, std::nullopt},
      {"one term naming nodes", Pod({{"affinity", Required({fields({"a", "b"})})}}), true, std::set<std::string>{"a", "b"}},
      {"terms are unioned", Pod({{"affinity", Required({fields({"a"}), fields({"c"})})}}), true,
       std::set<std::string>{"a", "c"}},
      {"a term on labels opens all nodes",
       Pod({{"affinity", Required({fields({"a"}), Json{{"matchExpressions", {Expr("zone", "Exists")}}}})}}), true,
       std::nullopt},
      {"requirements in a term intersect",
       Pod({{"affinity", Required({Json{{"matchFields", {Expr("metadata.name", "In", {"a", "b"}),
                                                          Expr("metadata.name", "In", {"b", "c"})}}}})}}),
       true, std::set<std::string>{"b"}},
      {"nothing left: conflict",
       Pod({{"affinity", Required({Json{{"matchFields", {Expr("metadata.name", "In", {"a"}),
                                                          Expr("metadata.name", "In", {"b"})}}}})}}),
       false, std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    NodeAffinityPreFilterResult r = NodeAffinityPreFilter(c.pod);
    EXPECT_EQ(r.status.ok(), c.ok);
    EXPECT_EQ(r.node_names, c.nodes);
    if (!c.ok) {
      EXPECT_EQ(r.status.reasons, std::vector<std::string>{"pod affinity terms conflict"});
    }
  }
}

TEST(NodeAffinityTest, ScoreSumsWeightsOfMatchingPreferredTerms) {
  Json node = Node(Json::object(), {{"zone", "a"}, {"disk", "ssd"}});
  Json preferred = {
      {{"weight", 10}, {"preference", {{"matchExpressions", {Expr("zone", "In", {"a"})}}}}},
      {{"weight", 5}, {"preference", {{"matchExpressions", {Expr("disk", "In", {"ssd"})}}}}},
      {{"weight", 7}, {"preference", {{"matchExpressions", {Expr("zone", "In", {"b"})}}}}},
      {{"weight", 50}, {"preference", Json::object()}},                                       // empty: ignored
      {{"weight", 3}, {"preference", {{"matchExpressions", {Expr("zone", "Near", {"a"})}}}}},  // unparseable
  };
  Json pod = Pod({{"affinity", {{"nodeAffinity", {{"preferredDuringSchedulingIgnoredDuringExecution", preferred}}}}}});
  EXPECT_EQ(NodeAffinityScore(pod, NodeInfo::New(node)), 15);
  EXPECT_EQ(NodeAffinityScore(Pod(), NodeInfo::New(node)), 0);
}

TEST(NodePortsTest, HostPortsMustBeFree) {
  auto with_port = [](int host_port, std::string ip = "", std::string proto = "") {
    Json port = {{"containerPort", 8080}, {"hostPort", host_port}};
    if (!ip.empty()) port["hostIP"] = ip;
    if (!proto.empty()) port["protocol"] = proto;
    return Pod({{"containers", {{{"name", "app"}, {"ports", {port}}}}}});
  };
  std::vector<Json> existing = {with_port(80)};
  existing[0]["metadata"]["uid"] = "old";
  std::string no = kErrReasonNodePorts;
  RunFilterCases(NodePortsFilter,
                 {
                     {"no host port", Pod(), Node(), Code::kSuccess, {}},
                     {"free port", with_port(81), Node(), Code::kSuccess, {}},
                     {"taken port", with_port(80), Node(), Code::kUnschedulable, {no}},
                     {"taken on 0.0.0.0, wanted on one address", with_port(80, "10.0.0.1"), Node(), Code::kUnschedulable, {no}},
                     {"same port, UDP", with_port(80, "", "UDP"), Node(), Code::kSuccess, {}},
                 },
                 existing);
}

TEST(NodeResourcesFitTest, FilterNamesEveryShortResource) {
  Json small = {{"cpu", "1"}, {"memory", "1Gi"}, {"pods", "2"}, {"ephemeral-storage", "1Gi"}, {"example.com/gpu", "1"}};
  Json existing = Requests({{"cpu", "500m"}, {"memory", "512Mi"}});
  existing["metadata"]["uid"] = "old";
  Json node = Node(Json::object(), Json::object(), small);
  RunFilterCases(NodeResourcesFitFilter,
                 {
                     {"fits", Requests({{"cpu", "500m"}, {"memory", "512Mi"}}), node, Code::kSuccess, {}},
                     {"asks for nothing", Pod(), node, Code::kSuccess, {}},
                     {"cpu", Requests({{"cpu", "501m"}}), node, Code::kUnschedulable, {"Insufficient cpu"}},
                     {"cpu and memory, in that order", Requests({{"memory", "2Gi"}, {"cpu", "2"}}), node, Code::kUnschedulable,
                      {"Insufficient cpu", "Insufficient memory"}},
                     {"ephemeral storage", Requests({{"ephemeral-storage", "2Gi"}}), node, Code::kUnschedulable,
                      {"Insufficient ephemeral-storage"}},
                     {"extended resource", Requests({{"example.com/gpu", "2"}, {"example.com/fpga", "1"}}), node,
                      Code::kUnschedulable, {"Insufficient example.com/fpga", "Insufficient example.com/gpu"}},
                     {"zero of an unknown extended resource is fine", Requests({{"example.com/fpga", "0"}}), node,
                      Code::kSuccess, {}},
                     {"overhead counts", Requests({{"cpu", "400m"}}, {{"overhead", {{"cpu", "200m"}}}}), node,
                      Code::kUnschedulable, {"Insufficient cpu"}},
                 },
                 {existing});
  // The node has room for 2 pods and holds 2: even a pod asking for nothing is too many.
  Json other = existing;
  other["metadata"]["uid"] = "other";
  RunFilterCases(NodeResourcesFitFilter, {{"too many pods", Pod(), node, Code::kUnschedulable, {"Too many pods"}}},
                 {existing, other});
}

TEST(NodeResourcesFitTest, LeastAllocatedPrefersEmptierNodes) {
  Json node = Node(Json::object(), Json::object(), {{"cpu", "4"}, {"memory", "4Gi"}, {"pods", "10"}});
  struct Case {
    std::string name;
    Json pod;
    std::vector<Json> existing;
    int64_t want;
  };
  Json half = Requests({{"cpu", "2"}, {"memory", "2Gi"}});
  half["metadata"]["uid"] = "old";
  std::vector<Case> cases = {
      {"empty node, pod asks for a quarter", Requests({{"cpu", "1"}, {"memory", "1Gi"}}), {}, 75},
      {"half full, pod asks for a quarter", Requests({{"cpu", "1"}, {"memory", "1Gi"}}), {half}, 25},
      // 100m of 4000m left 97 (rounded down); 200Mi of 4Gi leaves 95 → (97 + 95) / 2.
      {"no requests count as 100m and 200Mi", Pod(), {}, 96},
      {"more than the node has", Requests({{"cpu", "8"}, {"memory", "8Gi"}}), {}, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(NodeResourcesFitScore(c.pod, NodeInfo::New(node, c.existing)), c.want);
  }
}

TEST(DefaultNormalizeScoreTest, ScalesToMaxAndReverses) {
  std::vector<int64_t> s = {0, 5, 10};
  DefaultNormalizeScore(100, false, s);
  EXPECT_EQ(s, (std::vector<int64_t>{0, 50, 100}));
  s = {0, 5, 10};
  DefaultNormalizeScore(100, true, s);
  EXPECT_EQ(s, (std::vector<int64_t>{100, 50, 0}));
  s = {0, 0};
  DefaultNormalizeScore(100, true, s);
  EXPECT_EQ(s, (std::vector<int64_t>{100, 100}));
  s = {0, 0};
  DefaultNormalizeScore(100, false, s);
  EXPECT_EQ(s, (std::vector<int64_t>{0, 0}));
}

}  // namespace
}  // namespace kubes::scheduler
