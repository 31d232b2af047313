#include "scheduler/framework/types.h"

#include <gtest/gtest.h>

#include <limits>

namespace kubes::scheduler {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

Json Container(Json requests, Json extra = Json::object()) {
  extra["name"] = "c";
  extra["resources"] = {{"requests", requests}};
  return extra;
}

TEST(PodRequestsTest, ContainersSidecarsInitContainersAndOverhead) {
  struct Case {
    std::string name;
    Json spec;
    int64_t want_milli_cpu, want_memory;
  };
  Json always = {{"restartPolicy", "Always"}};
  std::vector<Case> cases = {
      {"no containers", Json::object(), 0, 0},
      {"containers add up", {{"containers", {Container({{"cpu", "100m"}}), Container({{"cpu", "200m"}, {"memory", "1Ki"}})}}},
       300, 1024},
      {"the largest init container wins when larger",
       {{"containers", {Container({{"cpu", "100m"}})}},
        {"initContainers", {Container({{"cpu", "1"}}), Container({{"cpu", "500m"}, {"memory", "2Ki"}})}}},
       1000, 2048},
      {"init containers smaller than the app: the app wins",
       {{"containers", {Container({{"cpu", "2"}})}}, {"initContainers", {Container({{"cpu", "1"}})}}}, 2000, 0},
      {"a sidecar runs with the app and with later init containers",
       {{"containers", {Container({{"cpu", "1"}})}},
        {"initContainers", {Container({{"cpu", "500m"}}, always), Container({{"cpu", "1200m"}})}}},
       1700, 0},  // max(1 + 0.5, 0.5 + 1.2)
      {"overhead is added",
       {{"containers", {Container({{"cpu", "100m"}})}}, {"overhead", {{"cpu", "10m"}, {"memory", "1Ki"}}}}, 110, 1024},
      {"garbage is ignored", {{"containers", {"not an object", Container("nope")}}, {"initContainers", 7}}, 0, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Resource r = PodRequests({{"spec", c.spec}});
    EXPECT_EQ(r.milli_cpu, c.want_milli_cpu);
    EXPECT_EQ(r.memory, c.want_memory);
  }
}

TEST(PodRequestsTest, NonZeroDefaultsOnlyForMissingCpuAndMemory) {
  Json pod = {{"spec", {{"containers", {Container(Json::object()), Container({{"cpu", "0"}, {"memory", "1Mi"}})}}}}};
  Resource r = PodNonZeroRequests(pod);
  EXPECT_EQ(r.milli_cpu, kDefaultMilliCPURequest);  // the second asked for 0 explicitly
  EXPECT_EQ(r.memory, kDefaultMemoryRequest + 1024 * 1024);
  EXPECT_EQ(PodRequests(pod).milli_cpu, 0);
}

TEST(ResourceTest, ScalarResourcesAndPods) {
  Resource r = Resource::FromList({{"cpu", "2"}, {"memory", "1Gi"}, {"pods", "110"}, {"ephemeral-storage", "10Gi"},
                                   {"example.com/gpu", "2"}, {"hugepages-2Mi", "4Mi"}, {"requests.cpu", "1"},
                                   {"unknown", "1"}});
  EXPECT_EQ(r.milli_cpu, 2000);
  EXPECT_EQ(r.memory, 1073741824);
  EXPECT_EQ(r.allowed_pod_number, 110);
  EXPECT_EQ(r.ephemeral_storage, 10737418240);
  EXPECT_EQ(r.scalar, (std::map<std::string, int64_t>{{"example.com/gpu", 2}, {"hugepages-2Mi", 4194304}}));
}

TEST(HostPortInfoTest, WildcardAddressCollidesWithEveryAddress) {
  struct Case {
    std::string name;
    std::string used_ip, used_proto;
    std::string ip, proto;
    int64_t port;
    bool conflict;
  };
  std::vector<Case> cases = {
      {"same everything", "", "", "", "", 80, true},
      {"other port", "", "", "", "", 81, false},
      {"other protocol", "", "TCP", "", "UDP", 80, false},
      {"used on all addresses, wanted on one", "", "", "10.0.0.1", "", 80, true},
      {"used on one address, wanted on all", "10.0.0.1", "", "0.0.0.0", "TCP", 80, true},
      {"different addresses", "10.0.0.1", "", "10.0.0.2", "", 80, false},
      {"port 0 never conflicts", "", "", "", "", 0, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    HostPortInfo used;
    used.Add(c.used_ip, c.used_proto, 80);
    EXPECT_EQ(used.CheckConflict(c.ip, c.proto, c.port), c.conflict);
  }
}

TEST(NodeInfoTest, AddAndRemovePodsKeepTheSums) {
  Json node = {{"metadata", {{"name", "n1"}}}, {"status", {{"allocatable", {{"cpu", "4"}, {"pods", "10"}}}}}};
  auto pod = [](const std::string& uid, const std::string& cpu, int host_port) {
    Json c = Container({{"cpu", cpu}});
    c["ports"] = {{{"containerPort", 80}, {"hostPort", host_port}}};
    return Json{{"metadata", {{"uid", uid}, {"namespace", "d"}, {"name", uid}}}, {"spec", {{"containers", {c}}}}};
  };
  NodeInfo n = NodeInfo::New(node, {pod("a", "1", 80), pod("b", "500m", 81)});
  EXPECT_EQ(n.name(), "n1");
  EXPECT_EQ(n.num_pods(), 2u);
  EXPECT_EQ(n.allocatable().milli_cpu, 4000);
  EXPECT_EQ(n.requested().milli_cpu, 1500);
  EXPECT_EQ(n.non_zero_requested().memory, 2 * kDefaultMemoryRequest);
  EXPECT_TRUE(n.used_ports().CheckConflict("", "", 80));
  // An update replaces the old version of the pod.
  n.AddPod(std::make_shared<const Json>(pod("a", "2", 82)));
  EXPECT_EQ(n.requested().milli_cpu, 2500);
  EXPECT_FALSE(n.used_ports().CheckConflict("", "", 80));
  EXPECT_TRUE(n.RemovePod("a"));
  EXPECT_FALSE(n.RemovePod("a"));
  EXPECT_EQ(n.requested().milli_cpu, 500);
  EXPECT_EQ(n.num_pods(), 1u);
  EXPECT_FALSE(n.used_ports().CheckConflict("", "", 82));
  EXPECT_TRUE(n.used_ports().CheckConflict("", "", 81));
}

TEST(JsonAccessTest, WrongTypesReadAsAbsent) {
  Json obj = {{"spec", {{"nodeName", 5}, {"list", "x"}}}, {"arr", Json::array({1})}};
  EXPECT_TRUE(At(obj, {"spec", "nodeName", "deeper"}).is_null());
  EXPECT_EQ(StringAt(obj, {"spec", "nodeName"}), "");
  EXPECT_TRUE(ArrayAt(obj, {"spec", "list"}).empty());
  EXPECT_TRUE(At(obj, {"arr", "x"}).is_null());
  EXPECT_EQ(ArrayAt(obj, {"arr"}).size(), 1u);
  EXPECT_EQ(PodUID({{"metadata", {{"namespace", "ns"}, {"name", "p"}}}}), "ns/p");
}

}  // namespace
}  // namespace kubes::scheduler
