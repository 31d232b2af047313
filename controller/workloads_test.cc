// The ReplicaSet and Deployment controllers: their arithmetic on its own, and their
// Sync functions against a real in-process apiserver (apiserver/testing/test_server.h).
// Nothing runs pods here: the tests write pod and ReplicaSet status themselves, as a
// kubelet and the ReplicaSet controller would.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "apiserver/testing/test_server.h"
#include "client/informer.h"
#include "client/resources.h"
#include "controller/controller_utils.h"
#include "controller/deployment/deployment_controller.h"
#include "controller/daemon/daemon_set.h"
#include "controller/deployment/deployment_util.h"
#include "controller/disruption/disruption.h"
#include "controller/replicaset/replica_set.h"
#include "controller/statefulset/stateful_set.h"

namespace kubes::controller {
namespace {

using apiserver::testing::TestServer;
using client::kControllerRevisions;
using client::kDaemonSets;
using client::kDeployments;
using client::kNodes;
using client::kPods;
using client::kReplicaSets;
using client::kServiceAccounts;
using client::kStatefulSets;
namespace dep = deployment;

// ---- arithmetic ----

Json RollingDeployment(int replicas, Json surge, Json unavailable) {
  return {{"metadata", {{"name", "web"}, {"generation", 1}}},
          {"spec",
           {{"replicas", replicas},
            {"strategy", {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", surge}, {"maxUnavailable", unavailable}}}}}}}};
}

TEST(DeploymentUtil, SurgeRoundsUpUnavailabilityDown) {
  struct Case {
    int replicas;
    Json surge, unavailable;
    int want_surge, want_unavailable;
  } cases[] = {
      {10, "25%", "25%", 3, 2},  // upstream's defaults on 10 replicas
      {3, "25%", "25%", 1, 0},
      {1, "25%", "25%", 1, 0},
      {4, 0, 0, 0, 1},           // both 0 would never progress: one may be unavailable
      {3, 2, 5, 2, 3},           // never more unavailable than replicas
      {0, "25%", "25%", 0, 0},
  };
  for (const auto& c : cases) {
    Json d = RollingDeployment(c.replicas, c.surge, c.unavailable);
    EXPECT_EQ(dep::MaxSurge(d), c.want_surge) << d.dump();
    EXPECT_EQ(dep::MaxUnavailable(d), c.want_unavailable) << d.dump();
  }
  Json recreate = {{"spec", {{"replicas", 3}, {"strategy", {{"type", "Recreate"}}}}}};
  EXPECT_EQ(dep::MaxSurge(recreate), 0);
  EXPECT_EQ(dep::MaxUnavailable(recreate), 0);
}

TEST(DeploymentUtil, HashIsStableAndSafe) {
  Json t = {{"metadata", {{"labels", {{"app", "web"}}}}}, {"spec", {{"containers", {{{"name", "c"}, {"image", "nginx"}}}}}}};
  std::string h = ComputeHash(t, 0);
  EXPECT_EQ(h, ComputeHash(t, 0));
  EXPECT_NE(h, ComputeHash(t, 1));  // a collision count gives another name
  EXPECT_EQ(h.find_first_not_of("bcdfghjklmnpqrstvwxz2456789"), std::string::npos) << h;
  Json other = t;
  other["spec"]["containers"][0]["image"] = "nginx:2";
  EXPECT_NE(h, ComputeHash(other, 0));
}

TEST(DeploymentUtil, TemplatesEqualApartFromTheHashLabel) {
  Json a = {{"metadata", {{"labels", {{"app", "web"}}}}}, {"spec", {{"x", 1}}}};
  Json b = a;
  b["metadata"]["labels"]["pod-template-hash"] = "abc";
  EXPECT_TRUE(dep::EqualIgnoreHash(a, b));
  b["metadata"]["creationTimestamp"] = nullptr;  // how kubectl rollout undo sends it
  EXPECT_TRUE(dep::EqualIgnoreHash(a, b));
  b["spec"]["x"] = 2;
  EXPECT_FALSE(dep::EqualIgnoreHash(a, b));
}

Json RS(const std::string& name, int replicas, int available = 0, const std::string& created = "2024-01-01T00:00:00Z",
        int max_replicas = 0) {
  Json rs = {{"metadata", {{"name", name}, {"creationTimestamp", created}}},
             {"spec", {{"replicas", replicas}}},
             {"status", {{"availableReplicas", available}}}};
  if (max_replicas) rs["metadata"]["annotations"][dep::kMaxReplicasAnnotation] = std::to_string(max_replicas);
  return rs;
}

TEST(DeploymentUtil, NewReplicaSetGrowsWithinSurge) {
  Json d = RollingDeployment(10, "25%", "25%");  // surge 3: at most 13 pods
  EXPECT_EQ(dep::NewRSNewReplicas(d, {RS("old", 10), RS("new", 0)}, RS("new", 0)), 3);
  EXPECT_EQ(dep::NewRSNewReplicas(d, {RS("old", 8), RS("new", 3)}, RS("new", 3)), 5);
  EXPECT_EQ(dep::NewRSNewReplicas(d, {RS("old", 0), RS("new", 9)}, RS("new", 9)), 10);  // never past replicas
  EXPECT_EQ(dep::NewRSNewReplicas(d, {RS("old", 13), RS("new", 0)}, RS("new", 0)), 0);  // no room
}

TEST(DeploymentUtil, ProportionFollowsShares) {
  // Two ReplicaSets of 5 and 5 when the Deployment was 10 (+3 surge = 13 max); scaled to
  // 20 (+5 surge = 25 max): each grows to round(5/13*25) = 10.
  Json d = RollingDeployment(20, "25%", "25%");
  Json a = RS("a", 5, 0, "2024-01-01T00:00:00Z", 13);
  EXPECT_EQ(dep::Proportion(a, d, 12, 0), 5);
  EXPECT_EQ(dep::Proportion(a, d, 12, 10), 2);  // never more than what is left to add
  Json zero = RollingDeployment(0, "25%", "25%");
  EXPECT_EQ(dep::Proportion(a, zero, -5, 0), -5);
}

TEST(DeploymentUtil, ActiveOrLatest) {
  EXPECT_EQ(dep::FindActiveOrLatest({RS("a", 0), RS("b", 3)}, -1), 1);
  EXPECT_EQ(dep::FindActiveOrLatest({RS("a", 2), RS("b", 3)}, 1), -1);  // two active: proportional
  EXPECT_EQ(dep::FindActiveOrLatest({RS("a", 0, 0, "2024-01-02T00:00:00Z"), RS("b", 0)}, -1), 0);  // newest
  EXPECT_EQ(dep::FindActiveOrLatest({RS("a", 0), RS("b", 0)}, 1), 1);  // the new one
}

TEST(ControllerUtils, DeletionOrderPrefersUselessPods) {
  auto pod = [](const std::string& name, const std::string& node, const std::string& phase, bool ready,
                int restarts = 0) {
    Json p = {{"metadata", {{"name", name}, {"creationTimestamp", "2024-01-01T00:00:00Z"}}},
              {"spec", {{"nodeName", node}}},
              {"status", {{"phase", phase}, {"containerStatuses", {{{"restartCount", restarts}}}}}}};
    if (ready) p["status"]["conditions"] = {{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", "2024-01-01T00:00:00Z"}}};
    return p;
  };
  std::vector<Json> pods = {pod("running-ready", "n1", "Running", true), pod("unscheduled", "", "Pending", false),
                            pod("pending", "n1", "Pending", false), pod("running", "n1", "Running", false),
                            pod("crashy", "n1", "Running", true, 7)};
  SortPodsForDeletion(pods, RealClock::Get().Now());
  std::vector<std::string> order;
  for (const auto& p : pods) order.push_back(p["metadata"]["name"]);
  EXPECT_EQ(order, (std::vector<std::string>{"unscheduled", "pending", "running", "crashy", "running-ready"}));
}

class FakeClock : public Clock {
 public:
  TimePoint Now() const override { return now; }
  TimePoint now = std::chrono::system_clock::now();
};

TEST(ControllerUtils, ExpectationsWaitForTheInformerOrTimeOut) {
  FakeClock clock;
  Expectations e(clock);
  EXPECT_TRUE(e.Satisfied("ns/rs"));
  e.ExpectCreations("ns/rs", 2);
  EXPECT_FALSE(e.Satisfied("ns/rs"));
  e.CreationObserved("ns/rs");
  EXPECT_FALSE(e.Satisfied("ns/rs"));
  e.CreationObserved("ns/rs");
  EXPECT_TRUE(e.Satisfied("ns/rs"));
  e.ExpectDeletions("ns/rs", {"u1"});
  e.DeletionObserved("ns/rs", "other");
  EXPECT_FALSE(e.Satisfied("ns/rs"));
  clock.now += std::chrono::minutes(6);
  EXPECT_TRUE(e.Satisfied("ns/rs"));  // a lost event must not wedge the controller
}

TEST(DaemonSet, WhichNodesRunTheDaemon) {
  Json ds = {{"metadata", {{"name", "d"}, {"namespace", "default"}, {"uid", "u"}, {"generation", 1}}},
             {"apiVersion", "apps/v1"},
             {"kind", "DaemonSet"},
             {"spec", {{"template", {{"metadata", {{"labels", {{"a", "b"}}}}},
                                     {"spec", {{"nodeSelector", {{"disk", "ssd"}}}}}}}}}};
  auto node = [](Json labels, Json taints = Json::array()) {
    return Json{{"metadata", {{"name", "n1"}, {"labels", labels}}}, {"spec", {{"taints", taints}}}};
  };
  using P = DaemonSetController::Placement;
  auto check = [&](const Json& n, bool run, bool stay) {
    P p = DaemonSetController::NodeShouldRunDaemonPod(ds, n);
    EXPECT_EQ(p.should_run, run) << n.dump();
    EXPECT_EQ(p.should_continue, stay) << n.dump();
  };
  check(node({{"disk", "ssd"}}), true, true);
  check(node({{"disk", "hdd"}}), false, false);  // the selector does not match
  // Cordoned and unreachable nodes keep their daemons (automatic tolerations)...
  check(node({{"disk", "ssd"}}, {{{"key", "node.kubernetes.io/unschedulable"}, {"effect", "NoSchedule"}}}), true, true);
  check(node({{"disk", "ssd"}}, {{{"key", "node.kubernetes.io/unreachable"}, {"effect", "NoExecute"}}}), true, true);
  // ...a NoSchedule taint of one's own keeps new ones away but lets a running one stay,
  check(node({{"disk", "ssd"}}, {{{"key", "dedicated"}, {"value", "db"}, {"effect", "NoSchedule"}}}), false, true);
  // and a NoExecute one removes it.
  check(node({{"disk", "ssd"}}, {{{"key", "dedicated"}, {"value", "db"}, {"effect", "NoExecute"}}}), false, false);

  Json pod = DaemonSetController::NewDaemonPod(ds, "n1", "abc");
  EXPECT_EQ(pod["metadata"]["labels"]["controller-revision-hash"], "abc");
  EXPECT_EQ(pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                ["nodeSelectorTerms"][0]["matchFields"][0]["values"][0],
            "n1");
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["kind"], "DaemonSet");
}

TEST(StatefulSet, OrdinalsAndIdentity) {
  using S = StatefulSetController;
  EXPECT_EQ(S::OrdinalOf("web", "web-0"), 0);
  EXPECT_EQ(S::OrdinalOf("web", "web-12"), 12);
  for (const char* bad : {"web", "web-", "web-01", "web-x", "webx-1", "other-1", "web-1-2"}) {
    EXPECT_EQ(S::OrdinalOf("web", bad), -1) << bad;
  }
  Json set = {{"apiVersion", "apps/v1"},
              {"kind", "StatefulSet"},
              {"metadata", {{"name", "web"}, {"namespace", "default"}, {"uid", "u1"}}},
              {"spec",
               {{"serviceName", "nginx"},
                {"volumeClaimTemplates", {{{"metadata", {{"name", "www"}}}}}}}}};
  Json tmpl = {{"metadata", {{"labels", {{"app", "nginx"}}}}},
               {"spec", {{"volumes", {{{"name", "www"}, {"emptyDir", Json::object()}}, {{"name", "other"}, {"emptyDir", Json::object()}}}}}}};
  Json pod = S::NewStatefulPod(set, tmpl, 2, "web-abc");
  EXPECT_EQ(pod["metadata"]["name"], "web-2");
  EXPECT_FALSE(pod["metadata"].contains("generateName"));
  EXPECT_EQ(pod["spec"]["hostname"], "web-2");
  EXPECT_EQ(pod["spec"]["subdomain"], "nginx");
  EXPECT_EQ(pod["metadata"]["labels"]["controller-revision-hash"], "web-abc");
  EXPECT_EQ(pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"], "2");
  // The claim template's volume replaces the template's volume of the same name.
  ASSERT_EQ(pod["spec"]["volumes"].size(), 2u);
  EXPECT_EQ(pod["spec"]["volumes"][1]["persistentVolumeClaim"]["claimName"], "www-web-2");
}

// ---- against an apiserver ----

class WorkloadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start("kubes-workloads").ok());
    c_ = server_.client();
    Json sa = {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "default"}}}};
    ASSERT_TRUE(c_->Create(kServiceAccounts, "default", sa).ok());
    pods_ = std::make_unique<client::Informer>(c_, kPods);
    rss_ = std::make_unique<client::Informer>(c_, kReplicaSets);
    deployments_ = std::make_unique<client::Informer>(c_, kDeployments);
    budgets_ = std::make_unique<client::Informer>(c_, client::kPodDisruptionBudgets);
    nodes_ = std::make_unique<client::Informer>(c_, kNodes);
    daemonsets_ = std::make_unique<client::Informer>(c_, kDaemonSets);
    statefulsets_ = std::make_unique<client::Informer>(c_, kStatefulSets);
    revisions_ = std::make_unique<client::Informer>(c_, kControllerRevisions);
  }
  std::vector<client::Informer*> Informers() {
    return {pods_.get(), rss_.get(), deployments_.get(), budgets_.get(),
            nodes_.get(), daemonsets_.get(), statefulsets_.get(), revisions_.get()};
  }
  void StartInformers() {
    for (auto* inf : Informers()) threads_.emplace_back([this, inf] { inf->Run(stop_); });
    ASSERT_TRUE(TestServer::Eventually([&] {
      auto all = Informers();
      return std::all_of(all.begin(), all.end(), [](client::Informer* i) { return i->HasSynced(); });
    }));
  }
  void TearDown() override {
    stop_ = true;
    for (auto& t : threads_) t.join();
    controllers_.clear();  // only now: the informers no longer call their handlers
    server_.Stop();
  }
  // A controller that lives until the informers feeding it have stopped.
  template <class T, class... Args>
  T& Make(Args&&... args) {
    auto c = std::make_shared<T>(std::forward<Args>(args)...);
    controllers_.push_back(c);
    return *c;
  }
  static Json Template(const std::string& image) {
    return {{"metadata", {{"labels", {{"app", "web"}}}}},
            {"spec", {{"containers", {{{"name", "web"}, {"image", image}}}}}}};
  }
  std::vector<Json> PodsOwnedBy(const std::string& uid) {
    std::vector<Json> out;
    Json list = *c_->List(kPods, "default");
    for (const auto& p : list["items"]) {
      auto ref = GetControllerOf(p);
      if (ref && (*ref)["uid"] == uid && !IsBeingDeleted(p)) out.push_back(p);
    }
    return out;
  }
  // Waits until the informer holds `key` with at least the given resourceVersion.
  bool Seen(client::Informer& inf, const std::string& key, const Json& obj) {
    int64_t want = std::stoll(obj["metadata"]["resourceVersion"].get<std::string>());
    return TestServer::Eventually([&] {
      Json got;
      return inf.Get(key, &got) && std::stoll(got["metadata"]["resourceVersion"].get<std::string>()) >= want;
    });
  }
  // Marks a pod Running and Ready (what the kubelet would report).
  Json MarkReady(Json pod) {
    pod["status"] = {{"phase", "Running"},
                     {"conditions", {{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", "2024-01-01T00:00:00Z"}}}}};
    auto marked = c_->Update(kPods, "default", pod, "status");
    EXPECT_TRUE(marked.ok()) << marked.status().ToString();
    return marked.ok() ? *marked : pod;
  }
  bool PodCountSeen(size_t n) {
    return TestServer::Eventually([&] {
      size_t active = 0;
      for (const auto& p : pods_->List()) active += IsPodActive(p);
      return active == n;
    });
  }

  TestServer server_;
  client::Client* c_ = nullptr;
  std::unique_ptr<client::Informer> pods_, rss_, deployments_, budgets_, nodes_, daemonsets_, statefulsets_, revisions_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::vector<std::shared_ptr<void>> controllers_;
};

TEST_F(WorkloadsTest, ReplicaSetCreatesAdoptsAndDeletes) {
  auto& rsc = Make<ReplicaSetController>(c_, *pods_, *rss_);
  StartInformers();
  // An orphan that matches is adopted rather than duplicated.
  Json orphan = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "orphan"}, {"labels", {{"app", "web"}}}}},
                 {"spec", Template("nginx")["spec"]}};
  ASSERT_TRUE(c_->Create(kPods, "default", orphan).ok());
  Json rs = {{"apiVersion", "apps/v1"},
             {"kind", "ReplicaSet"},
             {"metadata", {{"name", "web"}}},
             {"spec", {{"replicas", 3}, {"selector", {{"matchLabels", {{"app", "web"}}}}}, {"template", Template("nginx")}}}};
  auto created = c_->Create(kReplicaSets, "default", rs);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::string uid = (*created)["metadata"]["uid"];
  ASSERT_TRUE(Seen(*rss_, "default/web", *created));
  ASSERT_TRUE(PodCountSeen(1));

  Status s = rsc.SyncReplicaSet("default/web");
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto owned = PodsOwnedBy(uid);
  ASSERT_EQ(owned.size(), 3u);
  bool adopted = false;
  for (const auto& p : owned) {
    adopted |= p["metadata"]["name"] == "orphan";
    EXPECT_EQ(p["metadata"]["ownerReferences"][0]["blockOwnerDeletion"], true);
    if (p["metadata"]["name"] != "orphan") {
      EXPECT_EQ(p["metadata"]["generateName"], "web-");
    }
  }
  EXPECT_TRUE(adopted);
  // Status counts the pods seen at the start of a sync (as upstream): the next one.
  ASSERT_TRUE(PodCountSeen(3));
  ASSERT_TRUE(Seen(*rss_, "default/web", *c_->Get(kReplicaSets, "default", "web")));
  ASSERT_TRUE(rsc.SyncReplicaSet("default/web").ok());
  auto st = (*c_->Get(kReplicaSets, "default", "web"))["status"];
  EXPECT_EQ(st["replicas"], 3);
  EXPECT_EQ(st["observedGeneration"], 1);

  // Scale down to 1: two pods go, and the ready one is kept.
  Json ready_pod = owned[0];
  ready_pod["status"] = {{"phase", "Running"},
                         {"conditions", {{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", "2024-01-01T00:00:00Z"}}}}};
  auto marked = c_->Update(kPods, "default", ready_pod, "status");
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  auto scaled = c_->Patch(kReplicaSets, "default", "web", "application/merge-patch+json", {{"spec", {{"replicas", 1}}}});
  ASSERT_TRUE(scaled.ok());
  ASSERT_TRUE(Seen(*rss_, "default/web", *scaled));
  ASSERT_TRUE(Seen(*pods_, "default/" + ready_pod["metadata"]["name"].get<std::string>(), *marked));
  s = rsc.SyncReplicaSet("default/web");
  ASSERT_TRUE(s.ok()) << s.ToString();
  owned = PodsOwnedBy(uid);
  ASSERT_EQ(owned.size(), 1u);
  EXPECT_EQ(owned[0]["metadata"]["name"], ready_pod["metadata"]["name"]);
}

TEST_F(WorkloadsTest, DeploymentRollsOutThroughReplicaSets) {
  auto& dc = Make<DeploymentController>(c_, *deployments_, *rss_, *pods_);
  StartInformers();
  Json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", "web"}, {"annotations", {{"kubernetes.io/change-cause", "first"}}}}},
            {"spec", {{"replicas", 4}, {"selector", {{"matchLabels", {{"app", "web"}}}}}, {"template", Template("nginx:1.22")}}}};
  auto created = c_->Create(kDeployments, "default", d);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_TRUE(Seen(*deployments_, "default/web", *created));

  // First sync: a ReplicaSet of revision 1 with all 4 replicas (nothing to replace).
  Status s = dc.SyncDeployment("default/web");
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto list = (*c_->List(kReplicaSets, "default"))["items"];
  ASSERT_EQ(list.size(), 1u);
  Json rs1 = list[0];
  std::string hash = rs1["metadata"]["labels"]["pod-template-hash"];
  EXPECT_EQ(rs1["metadata"]["name"], "web-" + hash);
  EXPECT_EQ(rs1["spec"]["selector"]["matchLabels"]["pod-template-hash"], hash);
  EXPECT_EQ(rs1["spec"]["replicas"], 4);
  EXPECT_EQ(rs1["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "1");
  EXPECT_EQ(rs1["metadata"]["annotations"]["kubernetes.io/change-cause"], "first");
  EXPECT_EQ(rs1["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"], "5");
  auto dep_now = *c_->Get(kDeployments, "default", "web");
  EXPECT_EQ(dep_now["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "1");
  const Json* progressing = FindCondition(dep_now["status"], "Progressing");
  ASSERT_NE(progressing, nullptr) << dep_now["status"].dump();
  EXPECT_EQ((*progressing)["reason"], "NewReplicaSetCreated");

  // The ReplicaSet reports all 4 available: the rollout is complete.
  rs1 = *c_->Get(kReplicaSets, "default", rs1["metadata"]["name"]);
  rs1["status"] = {{"replicas", 4}, {"readyReplicas", 4}, {"availableReplicas", 4}, {"observedGeneration", 1}};
  auto rs1_done = c_->Update(kReplicaSets, "default", rs1, "status");
  ASSERT_TRUE(rs1_done.ok()) << rs1_done.status().ToString();
  ASSERT_TRUE(Seen(*rss_, "default/" + rs1["metadata"]["name"].get<std::string>(), *rs1_done));
  ASSERT_TRUE(Seen(*deployments_, "default/web", *c_->Get(kDeployments, "default", "web")));
  s = dc.SyncDeployment("default/web");
  ASSERT_TRUE(s.ok()) << s.ToString();
  dep_now = *c_->Get(kDeployments, "default", "web");
  EXPECT_EQ(dep_now["status"]["availableReplicas"], 4);
  EXPECT_EQ(dep_now["status"]["updatedReplicas"], 4);
  progressing = FindCondition(dep_now["status"], "Progressing");
  ASSERT_NE(progressing, nullptr);
  EXPECT_EQ((*progressing)["reason"], "NewReplicaSetAvailable");
  EXPECT_EQ((*FindCondition(dep_now["status"], "Available"))["status"], "True");

  // A new image: revision 2 starts with the one pod maxSurge (25% of 4) allows, and
  // the old one gives up the one pod maxUnavailable (25% of 4) allows.
  auto updated = c_->Patch(kDeployments, "default", "web", "application/merge-patch+json",
                           {{"spec", {{"template", {{"spec", {{"containers", {{{"name", "web"}, {"image", "nginx:1.23"}}}}}}}}}}});
  ASSERT_TRUE(updated.ok());
  ASSERT_TRUE(Seen(*deployments_, "default/web", *updated));
  s = dc.SyncDeployment("default/web");
  ASSERT_TRUE(s.ok()) << s.ToString();
  list = (*c_->List(kReplicaSets, "default"))["items"];
  ASSERT_EQ(list.size(), 2u);
  for (const auto& rs : list) {
    if (rs["metadata"]["name"] == rs1["metadata"]["name"]) {
      EXPECT_EQ(rs["spec"]["replicas"], 3);
    } else {
      EXPECT_EQ(rs["spec"]["replicas"], 1);
      EXPECT_EQ(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "2");
    }
  }
  dep_now = *c_->Get(kDeployments, "default", "web");
  EXPECT_EQ(dep_now["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "2");
}

TEST_F(WorkloadsTest, DisruptionBudgetCountsHealthyPods) {
  client::Informer& budgets = *budgets_;
  auto& dc = Make<DisruptionController>(c_, *pods_, budgets);
  StartInformers();
  auto ready_pod = [&](const std::string& name, bool ready) {
    Json p = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}, {"labels", {{"app", "db"}}}}},
              {"spec", Template("redis")["spec"]}};
    auto made = c_->Create(kPods, "default", p);
    ASSERT_TRUE(made.ok());
    Json st = *made;
    st["status"] = {{"phase", "Running"},
                    {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"},
                                     {"lastTransitionTime", "2024-01-01T00:00:00Z"}}}}};
    ASSERT_TRUE(c_->Update(kPods, "default", st, "status").ok());
  };
  ready_pod("db-0", true);
  ready_pod("db-1", true);
  ready_pod("db-2", false);
  Json pdb = {{"apiVersion", "policy/v1"}, {"kind", "PodDisruptionBudget"}, {"metadata", {{"name", "db"}}},
              {"spec", {{"minAvailable", 1}, {"selector", {{"matchLabels", {{"app", "db"}}}}}}}};
  auto created = c_->Create(client::kPodDisruptionBudgets, "default", pdb);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_TRUE(Seen(budgets, "default/db", *created));
  ASSERT_TRUE(TestServer::Eventually([&] {
    size_t ready = 0;
    for (const auto& p : pods_->List()) ready += IsPodReady(p);
    return ready == 2 && pods_->List().size() == 3;
  }));
  Status s = dc.SyncBudget("default/db");
  ASSERT_TRUE(s.ok()) << s.ToString();
  Json st = (*c_->Get(client::kPodDisruptionBudgets, "default", "db"))["status"];
  EXPECT_EQ(st["expectedPods"], 3);
  EXPECT_EQ(st["currentHealthy"], 2);
  EXPECT_EQ(st["desiredHealthy"], 1);
  EXPECT_EQ(st["disruptionsAllowed"], 1);
  EXPECT_EQ(st["conditions"][0]["reason"], "SufficientPods");

  // A percentage needs the pods' controllers: these have none, so nothing may go.
  auto pct = c_->Patch(client::kPodDisruptionBudgets, "default", "db", "application/merge-patch+json",
                       {{"spec", {{"minAvailable", "50%"}}}});
  ASSERT_TRUE(pct.ok());
  ASSERT_TRUE(Seen(budgets, "default/db", *pct));
  ASSERT_TRUE(dc.SyncBudget("default/db").ok());
  st = (*c_->Get(client::kPodDisruptionBudgets, "default", "db"))["status"];
  EXPECT_EQ(st["disruptionsAllowed"], 0);
  EXPECT_EQ(st["conditions"][0]["reason"], "SyncFailed");
  EXPECT_EQ(st["conditions"][0]["message"], "found no controller ref for pod \"db-0\"");
}

// One pod per eligible node, pinned by node affinity; a tainted node gets none; a node
// that joins gets its pod at the next sync; status counts what was scheduled.
TEST_F(WorkloadsTest, DaemonSetPlacesOnePodPerEligibleNode) {
  auto& dsc = Make<DaemonSetController>(c_, *daemonsets_, *pods_, *nodes_, *revisions_);
  StartInformers();
  auto node = [&](const std::string& name, bool tainted) {
    Json n = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}}};
    if (tainted) n["spec"]["taints"] = {{{"key", "dedicated"}, {"value", "gpu"}, {"effect", "NoSchedule"}}};
    auto created = c_->Create(kNodes, "", n);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    EXPECT_TRUE(Seen(*nodes_, name, *created));
  };
  node("n1", false);
  node("n2", true);
  Json ds = {{"apiVersion", "apps/v1"},
             {"kind", "DaemonSet"},
             {"metadata", {{"name", "agent"}}},
             {"spec", {{"selector", {{"matchLabels", {{"app", "web"}}}}}, {"template", Template("busybox")}}}};
  auto created = c_->Create(kDaemonSets, "default", ds);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::string uid = (*created)["metadata"]["uid"];
  ASSERT_TRUE(Seen(*daemonsets_, "default/agent", *created));

  auto nodes_of = [&] {
    std::multiset<std::string> out;
    for (const auto& p : PodsOwnedBy(uid)) {
      const Json& terms = p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                             ["nodeSelectorTerms"];
      out.insert(terms[0]["matchFields"][0]["values"][0].get<std::string>());
      // The daemon tolerations are added, so node conditions never evict it.
      bool tolerates_unreachable = false;
      for (const auto& t : p["spec"]["tolerations"]) tolerates_unreachable |= t.value("key", "") == "node.kubernetes.io/unreachable";
      EXPECT_TRUE(tolerates_unreachable) << p["spec"]["tolerations"].dump();
    }
    return out;
  };
  Status s = dsc.SyncDaemonSet("default/agent");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(nodes_of(), (std::multiset<std::string>{"n1"}));
  ASSERT_TRUE(PodCountSeen(1));
  // A revision records the template.
  auto revisions = *c_->List(kControllerRevisions, "default");
  ASSERT_EQ(revisions["items"].size(), 1u);
  EXPECT_EQ(revisions["items"][0]["revision"], 1);

  // Syncing again changes nothing (level-triggered, expectations met).
  ASSERT_TRUE(Seen(*daemonsets_, "default/agent", *c_->Get(kDaemonSets, "default", "agent")));
  ASSERT_TRUE(dsc.SyncDaemonSet("default/agent").ok());
  EXPECT_EQ(nodes_of(), (std::multiset<std::string>{"n1"}));
  auto st = (*c_->Get(kDaemonSets, "default", "agent"))["status"];
  EXPECT_EQ(st["desiredNumberScheduled"], 1);
  EXPECT_EQ(st["currentNumberScheduled"], 1);

  node("n3", false);
  ASSERT_TRUE(dsc.SyncDaemonSet("default/agent").ok());
  EXPECT_EQ(nodes_of(), (std::multiset<std::string>{"n1", "n3"}));
}

// OrderedReady: one pod at a time, the next only once the one before is Running and
// Ready; scaling down removes the highest ordinal first.
TEST_F(WorkloadsTest, StatefulSetCreatesInOrderAndScalesDownFromTheTop) {
  auto& ssc = Make<StatefulSetController>(c_, *statefulsets_, *pods_, *revisions_);
  StartInformers();
  Json set = {{"apiVersion", "apps/v1"},
              {"kind", "StatefulSet"},
              {"metadata", {{"name", "web"}}},
              {"spec",
               {{"replicas", 3}, {"serviceName", "web"}, {"selector", {{"matchLabels", {{"app", "web"}}}}},
                {"template", Template("nginx")}}}};
  auto created = c_->Create(kStatefulSets, "default", set);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::string uid = (*created)["metadata"]["uid"];
  ASSERT_TRUE(Seen(*statefulsets_, "default/web", *created));
  auto names = [&] {
    std::set<std::string> out;
    for (const auto& p : PodsOwnedBy(uid)) out.insert(p["metadata"]["name"].get<std::string>());
    return out;
  };
  using Names = std::set<std::string>;
  // Each step: sync, see one more pod, make it ready, wait for the informer to see that.
  // (Before each sync the informer catches up with the set's status write: a sync on a
  // stale copy ends in Conflict, and the worker would simply retry.)
  auto caught_up = [&] { return Seen(*statefulsets_, "default/web", *c_->Get(kStatefulSets, "default", "web")); };
  for (const std::string next : {"web-0", "web-1", "web-2"}) {
    ASSERT_TRUE(caught_up());
    Status s = ssc.SyncStatefulSet("default/web");
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(names().count(next)) << next;
    size_t want = StatefulSetController::OrdinalOf("web", next) + 1;
    EXPECT_EQ(names().size(), want) << "OrderedReady created more than one pod ahead";
    // Not ready yet: another sync must not start the next one.
    ASSERT_TRUE(PodCountSeen(want));
    ASSERT_TRUE(caught_up());
    s = ssc.SyncStatefulSet("default/web");
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(names().size(), want);
    Json pod = *c_->Get(kPods, "default", next);
    EXPECT_EQ(pod["spec"]["hostname"], next);
    EXPECT_EQ(pod["spec"]["subdomain"], "web");
    Json marked = MarkReady(pod);
    ASSERT_TRUE(Seen(*pods_, "default/" + next, marked));
  }
  auto scaled = c_->Patch(kStatefulSets, "default", "web", "application/merge-patch+json", {{"spec", {{"replicas", 1}}}});
  ASSERT_TRUE(scaled.ok());
  ASSERT_TRUE(Seen(*statefulsets_, "default/web", *scaled));
  ASSERT_TRUE(ssc.SyncStatefulSet("default/web").ok());
  EXPECT_EQ(names(), (Names{"web-0", "web-1"})) << "web-2 goes first, alone";
}

}  // namespace
}  // namespace kubes::controller
