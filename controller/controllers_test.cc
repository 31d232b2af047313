// Controllers against a real apiserver in the same process (a temporary SQLite store,
// no network traffic beyond the listener it opens on 127.0.0.1). Each test calls the
// controller's Sync function, or runs the controller, and checks the API's state.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "client/resources.h"
#include "apiserver/apiserver.h"
#include "client/client.h"
#include "client/shared_informers.h"
#include "controller/garbagecollector/garbagecollector.h"
#include "controller/namespace/namespace_controller.h"
#include "controller/nodelifecycle/node_lifecycle_controller.h"
#include "controller/serviceaccount/serviceaccounts_controller.h"

namespace kubes::controller {
namespace {

using client::kConfigMaps;
using client::kNamespaces;
using client::kNodes;
using client::kPods;
using client::kServiceAccounts;

using Json = nlohmann::json;


class ControllersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kubes-controllers-XXXXXX";
    dir_ = mkdtemp(tmpl);
    apiserver::APIServerOptions opts;
    opts.data_dir = dir_;
    opts.port = 0;
    opts.run_controllers = false;  // the tests drive them
    server_ = std::make_unique<apiserver::APIServer>(opts);
    ASSERT_TRUE(server_->Start().ok());
    transport_ = std::make_unique<client::LocalTransport>(
        [this](apiserver::Request& r) { return server_->Handle(r); },
        apiserver::UserInfo{"test", "", {"system:masters", "system:authenticated"}});
    client_ = std::make_unique<client::Client>(transport_.get());
  }
  void TearDown() override {
    server_->Stop();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  Json ConfigMap(const std::string& name, Json meta = Json::object()) {
    meta["name"] = name;
    return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", meta}};
  }
  // Waits (bounded) for pred to hold.
  bool Eventually(const std::function<bool()>& pred) {
    for (int i = 0; i < 500; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::string dir_;
  std::unique_ptr<apiserver::APIServer> server_;
  std::unique_ptr<client::LocalTransport> transport_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(ControllersTest, NamespaceIsEmptiedThenFinalized) {
  ASSERT_TRUE(client_->Create(kNamespaces, "", {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "gone"}}}}).ok());
  ASSERT_TRUE(client_->Create(kConfigMaps, "gone", ConfigMap("a")).ok());
  ASSERT_TRUE(client_->Delete(kNamespaces, "", "gone").ok());
  auto ns = client_->Get(kNamespaces, "", "gone");
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ((*ns)["status"]["phase"], "Terminating");

  NamespaceController c(client_.get());
  // First pass deletes the content and reports it is still there.
  EXPECT_FALSE(c.SyncNamespace("gone").ok());
  EXPECT_EQ(client_->Get(kConfigMaps, "gone", "a").status().code(), Code::kNotFound);
  auto conditions = (*client_->Get(kNamespaces, "", "gone"))["status"]["conditions"];
  bool remaining = false;
  for (const auto& cond : conditions) {
    if (cond["type"] == "NamespaceContentRemaining") remaining = cond["status"] == "True";
  }
  EXPECT_TRUE(remaining);
  // Second pass finds it empty and finalizes: the namespace is gone.
  Status second = c.SyncNamespace("gone");
  EXPECT_TRUE(second.ok()) << second.ToString();
  EXPECT_EQ(client_->Get(kNamespaces, "", "gone").status().code(), Code::kNotFound);
}

TEST_F(ControllersTest, NamespaceWaitsForFinalizersOfItsContent) {
  ASSERT_TRUE(client_->Create(kNamespaces, "", {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "held"}}}}).ok());
  ASSERT_TRUE(client_->Create(kConfigMaps, "held", ConfigMap("keep", {{"finalizers", {"example.com/hold"}}})).ok());
  ASSERT_TRUE(client_->Delete(kNamespaces, "", "held").ok());
  NamespaceController c(client_.get());
  EXPECT_FALSE(c.SyncNamespace("held").ok());
  EXPECT_FALSE(c.SyncNamespace("held").ok());  // still held by the finalizer
  EXPECT_TRUE(client_->Get(kNamespaces, "", "held").ok());
  auto cm = client_->Get(kConfigMaps, "held", "keep");
  ASSERT_TRUE(cm.ok());
  (*cm)["metadata"]["finalizers"] = Json::array();
  ASSERT_TRUE(client_->Update(kConfigMaps, "held", *cm).ok());
  EXPECT_TRUE(c.SyncNamespace("held").ok());
  EXPECT_EQ(client_->Get(kNamespaces, "", "held").status().code(), Code::kNotFound);
}

TEST_F(ControllersTest, ServiceAccountsControllerCreatesDefaultsAndBringsThemBack) {
  ServiceAccountsController c(client_.get(), "CA PEM");
  std::atomic<bool> stop{false};
  std::thread run([&] { c.Run(stop); });
  ASSERT_TRUE(client_->Create(kNamespaces, "", {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "team"}}}}).ok());
  EXPECT_TRUE(Eventually([&] { return client_->Get(kServiceAccounts, "team", "default").ok(); }));
  EXPECT_TRUE(Eventually([&] {
    auto cm = client_->Get(kConfigMaps, "team", "kube-root-ca.crt");
    return cm.ok() && (*cm)["data"]["ca.crt"] == "CA PEM";
  }));
  ASSERT_TRUE(client_->Delete(kServiceAccounts, "team", "default").ok());
  EXPECT_TRUE(Eventually([&] { return client_->Get(kServiceAccounts, "team", "default").ok(); }));
  stop = true;
  run.join();
}

TEST_F(ControllersTest, GarbageCollectorDeletesOrphansAndHonoursOrphanPolicy) {
  client::SharedInformers informers(client_.get());
  GarbageCollector gc(client_.get(), &informers);
  std::atomic<bool> stop{false};
  informers.Start(stop);
  std::thread run([&] { gc.Run(stop); });
  auto owner = client_->Create(kConfigMaps, "default", ConfigMap("owner"));
  ASSERT_TRUE(owner.ok());
  Json ref = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "owner"},
              {"uid", (*owner)["metadata"]["uid"]}};
  ASSERT_TRUE(client_->Create(kConfigMaps, "default", ConfigMap("dep", {{"ownerReferences", {ref}}})).ok());
  ASSERT_TRUE(client_->Delete(kConfigMaps, "default", "owner").ok());
  EXPECT_TRUE(Eventually([&] { return client_->Get(kConfigMaps, "default", "dep").status().code() == Code::kNotFound; }));

  // With propagationPolicy=Orphan the dependent stays and loses its reference.
  owner = client_->Create(kConfigMaps, "default", ConfigMap("owner2"));
  ASSERT_TRUE(owner.ok());
  ref["name"] = "owner2";
  ref["uid"] = (*owner)["metadata"]["uid"];
  ASSERT_TRUE(client_->Create(kConfigMaps, "default", ConfigMap("kept", {{"ownerReferences", {ref}}})).ok());
  ASSERT_TRUE(client_->Delete(kConfigMaps, "default", "owner2", {{"propagationPolicy", "Orphan"}}).ok());
  EXPECT_TRUE(Eventually([&] { return client_->Get(kConfigMaps, "default", "owner2").status().code() == Code::kNotFound; }));
  auto kept = client_->Get(kConfigMaps, "default", "kept");
  ASSERT_TRUE(kept.ok());
  EXPECT_FALSE((*kept)["metadata"].contains("ownerReferences"));
  stop = true;
  run.join();
  informers.Join();
}

}  // namespace
}  // namespace kubes::controller

namespace kubes::controller {
namespace {


TEST_F(ControllersTest, SilentNodeBecomesUnknownTaintedAndItsPodsAreEvicted) {
  Json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n1"}}}};
  auto created = client_->Create(kNodes, "", node);
  ASSERT_TRUE(created.ok());
  // A heartbeat an hour ago: the kubelet has been silent for long.
  Json with_status = *created;
  with_status["status"]["conditions"] = {{{"type", "Ready"}, {"status", "True"}, {"reason", "KubeletReady"},
                                          {"lastHeartbeatTime", "2020-01-01T00:00:00Z"},
                                          {"lastTransitionTime", "2020-01-01T00:00:00Z"}}};
  ASSERT_TRUE(client_->Update(kNodes, "", with_status, "status").ok());
  auto pod = [](const std::string& name, Json tolerations) {
    return Json{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}}},
                {"spec", {{"nodeName", "n1"}, {"tolerations", tolerations},
                          {"containers", {{{"name", "c"}, {"image", "busybox"}}}}}}};
  };
  // (No service account controller runs here: the admission wants the default one.)
  ASSERT_TRUE(client_->Create(kServiceAccounts, "default",
                              {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "default"}}}}).ok());
  // One tolerates the unreachable taint for ever, one for no time at all.
  Json forever = {{{"key", "node.kubernetes.io/unreachable"}, {"operator", "Exists"}, {"effect", "NoExecute"}}};
  Json briefly = {{{"key", "node.kubernetes.io/unreachable"}, {"operator", "Exists"}, {"effect", "NoExecute"},
                   {"tolerationSeconds", 0}}};
  ASSERT_TRUE(client_->Create(kPods, "default", pod("stays", forever)).ok());
  ASSERT_TRUE(client_->Create(kPods, "default", pod("goes", briefly)).ok());

  std::atomic<bool> stop{false};
  client::SharedInformers informers(client_.get());
  NodeLifecycleController c(client_.get(), &informers, std::chrono::seconds(1));
  informers.Start(stop);
  std::thread t([&] { c.Run(stop); });
  bool evicted = Eventually([&] {
    auto p = client_->Get(kPods, "default", "goes");
    return !p.ok() || (*p)["metadata"].contains("deletionTimestamp");
  });
  auto n = client_->Get(kNodes, "", "n1");
  stop = true;
  t.join();
  informers.Join();
  ASSERT_TRUE(evicted);
  ASSERT_TRUE(n.ok());
  const Json& ready = (*n)["status"]["conditions"][0];
  EXPECT_EQ(ready["status"], "Unknown");
  EXPECT_EQ(ready["reason"], "NodeStatusUnknown");
  EXPECT_EQ(ready["message"], "Kubelet stopped posting node status.");
  std::set<std::string> taints;
  for (const auto& taint : (*n)["spec"]["taints"]) taints.insert(taint["key"].get<std::string>() + ":" + taint["effect"].get<std::string>());
  EXPECT_EQ(taints, (std::set<std::string>{"node.kubernetes.io/unreachable:NoExecute",
                                           "node.kubernetes.io/unreachable:NoSchedule"}));
  auto stays = client_->Get(kPods, "default", "stays");
  ASSERT_TRUE(stays.ok());
  EXPECT_FALSE((*stays)["metadata"].contains("deletionTimestamp"));
}

TEST(NodeLifecycleTest, EvictionTimeFollowsTolerations) {
  Json taints = {{{"key", "node.kubernetes.io/unreachable"}, {"effect", "NoExecute"}, {"timeAdded", "2026-01-01T00:00:00Z"}}};
  Json pod = {{"spec", {{"tolerations", Json::array()}}}};
  EXPECT_EQ(NodeLifecycleController::EvictionTime(pod, taints), TimePoint::min()) << "not tolerated: now";
  pod["spec"]["tolerations"] = {{{"key", "node.kubernetes.io/unreachable"}, {"operator", "Exists"},
                                 {"effect", "NoExecute"}, {"tolerationSeconds", 300}}};
  EXPECT_EQ(NodeLifecycleController::EvictionTime(pod, taints),
            *ParseRFC3339("2026-01-01T00:05:00Z"));
  pod["spec"]["tolerations"] = {{{"operator", "Exists"}}};
  EXPECT_FALSE(NodeLifecycleController::EvictionTime(pod, taints)) << "tolerated for ever";
}

}  // namespace
}  // namespace kubes::controller
