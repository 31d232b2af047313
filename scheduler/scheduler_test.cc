// The Scheduler against a real apiserver in the same process (a temporary SQLite store;
// nothing listens beyond 127.0.0.1). Each test runs the scheduler on its own thread and
// waits (bounded) for what kubectl would show: spec.nodeName, the PodScheduled
// condition, and the Events.
#include "client/resources.h"
#include "scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "apiserver/apiserver.h"

namespace kubes::scheduler {
namespace {

using client::kEvents;
using client::kNodes;
using client::kPods;
using client::kServiceAccounts;

using namespace std::chrono_literals;


class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kubes-scheduler-XXXXXX";
    dir_ = mkdtemp(tmpl);
    apiserver::APIServerOptions opts;
    opts.data_dir = dir_;
    opts.port = 0;
    opts.run_controllers = false;
    server_ = std::make_unique<apiserver::APIServer>(opts);
    ASSERT_TRUE(server_->Start().ok());
    transport_ = std::make_unique<client::LocalTransport>(
        [this](apiserver::Request& r) { return server_->Handle(r); },
        apiserver::UserInfo{"test", "", {"system:masters", "system:authenticated"}});
    client_ = std::make_unique<client::Client>(transport_.get());
    // Pods need their ServiceAccount (the controller that makes it does not run here).
    Json sa = {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "default"}}}};
    ASSERT_TRUE(client_->Create(kServiceAccounts, "default", sa).ok());
  }
  void TearDown() override {
    StopScheduler();
    server_->Stop();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The scheduler registers on shared informers, which start once it is constructed
  // (as ControllerManager does it).
  void StartScheduler() {
    informers_ = std::make_unique<client::SharedInformers>(client_.get());
    scheduler_ = std::make_unique<Scheduler>(client_.get(), informers_.get());
    informers_->Start(stop_);
    thread_ = std::thread([this] { scheduler_->Run(stop_); });
  }
  void StopScheduler() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (informers_) informers_->Join();  // no handler of the scheduler runs any more
    scheduler_.reset();
    informers_.reset();
  }

  void CreateNode(const std::string& name, const std::string& cpu, Json spec = Json::object()) {
    Json status = {{"allocatable", {{"cpu", cpu}, {"memory", "8Gi"}, {"pods", "110"}}},
                   {"capacity", {{"cpu", cpu}, {"memory", "8Gi"}, {"pods", "110"}}}};
    Json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}, {"spec", spec}, {"status", status}};
    auto created = client_->Create(kNodes, "", node);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    if (created->value("status", Json::object()).contains("allocatable")) return;
    (*created)["status"] = status;  // status only through its subresource
    auto updated = client_->Update(kNodes, "", *created, "status");
    ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  }
  void CreatePod(const std::string& name, const std::string& cpu, Json spec = Json::object()) {
    spec["containers"] = {{{"name", "app"}, {"image", "busybox"}, {"resources", {{"requests", {{"cpu", cpu}}}}}}};
    Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}}}, {"spec", spec}};
    auto created = client_->Create(kPods, "default", pod);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  Json GetPod(const std::string& name) {
    auto pod = client_->Get(kPods, "default", name);
    return pod.ok() ? *pod : Json::object();
  }
  std::string NodeOf(const std::string& pod) { return StringAt(GetPod(pod), {"spec", "nodeName"}); }
  Json PodScheduled(const std::string& pod) {
    Json p = GetPod(pod);
    for (const Json& c : ArrayAt(p, {"status", "conditions"})) {
      if (StringAt(c, {"type"}) == "PodScheduled") return c;
    }
    return Json::object();
  }
  // The events about a pod with this reason.
  std::vector<Json> Events(const std::string& pod, const std::string& reason) {
    auto list = client_->List(kEvents, "default", "", "involvedObject.name=" + pod + ",reason=" + reason);
    std::vector<Json> out;
    if (list.ok()) {
      for (const Json& e : (*list)["items"]) out.push_back(e);
    }
    return out;
  }
  bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit = 10s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }

  std::string dir_;
  std::unique_ptr<apiserver::APIServer> server_;
  std::unique_ptr<client::LocalTransport> transport_;
  std::unique_ptr<client::Client> client_;
  std::unique_ptr<client::SharedInformers> informers_;
  std::unique_ptr<Scheduler> scheduler_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(SchedulerTest, BindsAPodAndRecordsTheScheduledEvent) {
  CreateNode("n1", "2");
  StartScheduler();
  CreatePod("web", "500m");
  ASSERT_TRUE(Eventually([&] { return NodeOf("web") == "n1"; }));
  EXPECT_EQ(StringAt(PodScheduled("web"), {"status"}), "True");
  ASSERT_TRUE(Eventually([&] { return !Events("web", "Scheduled").empty(); }));
  Json ev = Events("web", "Scheduled")[0];
  EXPECT_EQ(ev["message"], "Successfully assigned default/web to n1");
  EXPECT_EQ(ev["type"], "Normal");
  EXPECT_EQ(ev["source"]["component"], "default-scheduler");
  EXPECT_EQ(ev["involvedObject"]["kind"], "Pod");
  EXPECT_EQ(ev["involvedObject"]["uid"], GetPod("web")["metadata"]["uid"]);
}

TEST_F(SchedulerTest, CountsBoundAndAssumedPods) {
  CreateNode("n1", "3");
  // Bound by hand: its request counts although no scheduler placed it.
  CreatePod("manual", "1", {{"nodeName", "n1"}});
  // Three pods of 1 cpu for the 2 left, all queued before the scheduler starts, so
  // they are decided back to back, faster than the informer sees the bindings.
  for (const char* name : {"a", "b", "c"}) CreatePod(name, "1");
  StartScheduler();
  std::vector<std::string> pods = {"a", "b", "c"};
  ASSERT_TRUE(Eventually([&] {
    int bound = 0, unschedulable = 0;
    for (const auto& p : pods) {
      if (!NodeOf(p).empty()) ++bound;
      else if (StringAt(PodScheduled(p), {"reason"}) == "Unschedulable") ++unschedulable;
    }
    return bound == 2 && unschedulable == 1;
  }));
  std::string waiting;
  for (const auto& p : pods) {
    if (NodeOf(p).empty()) waiting = p;
  }
  std::string want =
      "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found "
      "for incoming pod.";
  Json cond = PodScheduled(waiting);
  EXPECT_EQ(cond["status"], "False");
  EXPECT_EQ(cond["message"], want);
  ASSERT_TRUE(Eventually([&] { return !Events(waiting, "FailedScheduling").empty(); }));
  Json ev = Events(waiting, "FailedScheduling")[0];
  EXPECT_EQ(ev["type"], "Warning");
  EXPECT_EQ(ev["message"], want);
  EXPECT_EQ(NodeOf("manual"), "n1");
}

TEST_F(SchedulerTest, RetriesAtOnceWhenANodeAppears) {
  StartScheduler();
  CreatePod("early", "100m");
  ASSERT_TRUE(Eventually([&] { return StringAt(PodScheduled("early"), {"message"}) == kErrNoNodesAvailable; }));
  // The retries back off (1 s, then 2 s): wait for the second failure, so the next
  // retry is 2 s away, then add a node. The pod must not wait for that retry.
  ASSERT_TRUE(Eventually([&] {
    auto evs = Events("early", "FailedScheduling");
    return !evs.empty() && evs[0].value("count", 0) >= 2;
  }));
  auto added = std::chrono::steady_clock::now();
  CreateNode("late", "1");
  ASSERT_TRUE(Eventually([&] { return NodeOf("early") == "late"; }));
  EXPECT_LT(std::chrono::steady_clock::now() - added, 1500ms);
}

TEST_F(SchedulerTest, FreedResourcesRetryWaitingPods) {
  CreateNode("n1", "1");
  CreatePod("big", "1", {{"nodeName", "n1"}});
  StartScheduler();
  CreatePod("next", "1");
  ASSERT_TRUE(Eventually([&] { return StringAt(PodScheduled("next"), {"reason"}) == "Unschedulable"; }));
  ASSERT_TRUE(client_->Delete(kPods, "default", "big", {{"gracePeriodSeconds", 0}}).ok());
  ASSERT_TRUE(Eventually([&] { return client_->Get(kPods, "default", "big").status().code() == Code::kNotFound; }));
  EXPECT_TRUE(Eventually([&] { return NodeOf("next") == "n1"; }));
}

TEST_F(SchedulerTest, LeavesOtherSchedulersPodsAlone) {
  CreateNode("n1", "2");
  StartScheduler();
  CreatePod("theirs", "100m", {{"schedulerName", "other-scheduler"}});
  CreatePod("gated", "100m", {{"schedulingGates", {{{"name", "example.com/wait"}}}}});
  CreatePod("ours", "100m");
  ASSERT_TRUE(Eventually([&] { return NodeOf("ours") == "n1"; }));
  // Pods are handled in order of arrival: the others were looked at before "ours".
  EXPECT_EQ(NodeOf("theirs"), "");
  EXPECT_TRUE(Events("theirs", "FailedScheduling").empty());
  EXPECT_EQ(NodeOf("gated"), "");
  EXPECT_TRUE(Events("gated", "FailedScheduling").empty());
}

TEST_F(SchedulerTest, TaintsAndCordonsKeepPodsAway) {
  CreateNode("tainted", "2", {{"taints", {{{"key", "dedicated"}, {"value", "gpu"}, {"effect", "NoSchedule"}}}}});
  CreateNode("cordoned", "2", {{"unschedulable", true}});
  StartScheduler();
  CreatePod("plain", "100m");
  std::string want =
      "0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable. "
      "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.";
  ASSERT_TRUE(Eventually([&] { return StringAt(PodScheduled("plain"), {"message"}) == want; }));
  // A toleration added to the waiting pod (its spec changes) retries it at once: after
  // the second failure the next retry is 2 s away.
  ASSERT_TRUE(Eventually([&] {
    auto evs = Events("plain", "FailedScheduling");
    return !evs.empty() && evs[0].value("count", 0) >= 2;
  }));
  Json plain = GetPod("plain");
  plain["spec"]["tolerations"].push_back({{"key", "dedicated"}, {"operator", "Exists"}});
  auto added = std::chrono::steady_clock::now();
  auto updated = client_->Update(kPods, "default", plain);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_TRUE(Eventually([&] { return NodeOf("plain") == "tainted"; }));
  EXPECT_LT(std::chrono::steady_clock::now() - added, 1500ms);
}

TEST_F(SchedulerTest, PreemptsALowerPriorityPodAndKeepsTheRoomForIt) {
  CreateNode("n1", "2");
  client::Resource priority_classes{"scheduling.k8s.io", "v1", "priorityclasses", false, "PriorityClass"};
  for (auto [name, value] : {std::pair{"low", 1}, std::pair{"high", 1000}}) {
    Json pc = {{"apiVersion", "scheduling.k8s.io/v1"}, {"kind", "PriorityClass"}, {"metadata", {{"name", name}}},
               {"value", value}};
    ASSERT_TRUE(client_->Create(priority_classes, "", pc).ok());
  }
  // Bound by hand; without a kubelet its graceful deletion waits until we finish it.
  CreatePod("victim", "1500m", {{"nodeName", "n1"}, {"priorityClassName", "low"}});
  ASSERT_EQ(GetPod("victim")["spec"]["priority"], 1);
  StartScheduler();
  CreatePod("preemptor", "1500m", {{"priorityClassName", "high"}});

  ASSERT_TRUE(Eventually([&] { return StringAt(GetPod("preemptor"), {"status", "nominatedNodeName"}) == "n1"; }));
  Json victim = GetPod("victim");
  EXPECT_FALSE(At(victim, {"metadata", "deletionTimestamp"}).is_null());
  Json target;
  for (const Json& c : ArrayAt(victim, {"status", "conditions"})) {
    if (StringAt(c, {"type"}) == "DisruptionTarget") target = c;
  }
  EXPECT_EQ(StringAt(target, {"status"}), "True");
  EXPECT_EQ(StringAt(target, {"reason"}), "PreemptionByScheduler");
  EXPECT_EQ(StringAt(target, {"message"}), "default-scheduler: preempting to accommodate a higher priority pod");
  ASSERT_TRUE(Eventually([&] { return !Events("victim", "Preempted").empty(); }));
  Json ev = Events("victim", "Preempted")[0];
  EXPECT_EQ(ev["type"], "Normal");
  EXPECT_EQ(ev["message"], "Preempted by pod " + StringAt(GetPod("preemptor"), {"metadata", "uid"}) + " on node n1");
  ASSERT_TRUE(Eventually([&] { return !Events("preemptor", "FailedScheduling").empty(); }));
  EXPECT_EQ(Events("preemptor", "FailedScheduling")[0]["message"], "0/1 nodes are available: 1 Insufficient cpu.");
  // While the victim terminates, the preemptor waits rather than preempting more.
  ASSERT_TRUE(Eventually([&] {
    return StringAt(PodScheduled("preemptor"), {"message"}) ==
           "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to a terminating pod on the "
           "nominated node.";
  }));

  // A lower-priority pod arriving now must not take the room being freed.
  CreatePod("latecomer", "1", {{"priorityClassName", "low"}});
  ASSERT_TRUE(Eventually([&] { return StringAt(PodScheduled("latecomer"), {"reason"}) == "Unschedulable"; }));
  ASSERT_TRUE(client_->Delete(kPods, "default", "victim", {{"gracePeriodSeconds", 0}}).ok());
  ASSERT_TRUE(Eventually([&] { return NodeOf("preemptor") == "n1"; }));
  EXPECT_EQ(NodeOf("latecomer"), "");
}

TEST(PodBackoffTest, DoublesFromOneToTenSeconds) {
  std::vector<std::chrono::milliseconds> want = {1s, 2s, 4s, 8s, 10s, 10s};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(Scheduler::PodBackoff(static_cast<int>(i) + 1), want[i]) << i;
  EXPECT_EQ(Scheduler::PodBackoff(1000), 10s);
}

TEST(ResponsibleTest, OnlyPendingPodsOfThisScheduler) {
  // No request is made: the client only has to exist.
  client::LocalTransport transport(
      [](apiserver::Request&) {
        apiserver::Response r;
        r.code = 500;
        return r;
      },
      {});
  client::Client client(&transport);
  client::SharedInformers informers(&client);  // never started
  Scheduler s(&client, &informers);
  Scheduler other(&client, &informers, "my-scheduler");
  struct Case {
    std::string name;
    Json pod;
    bool ours, other_ours;
  };
  auto pod = [](Json spec, Json status = Json::object(), Json meta = Json::object()) {
    meta["name"] = "p";
    meta["namespace"] = "default";
    return Json{{"metadata", meta}, {"spec", spec}, {"status", status}};
  };
  std::vector<Case> cases = {
      {"pending, no scheduler named", pod(Json::object()), true, false},
      {"default-scheduler", pod({{"schedulerName", "default-scheduler"}}), true, false},
      {"another scheduler", pod({{"schedulerName", "my-scheduler"}}), false, true},
      {"bound", pod({{"nodeName", "n1"}}), false, false},
      {"being deleted", pod(Json::object(), Json::object(), {{"deletionTimestamp", "2024-01-01T00:00:00Z"}}), false, false},
      {"finished", pod(Json::object(), {{"phase", "Failed"}}), false, false},
      {"gated", pod({{"schedulingGates", {{{"name", "x"}}}}}), false, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(s.Responsible(c.pod), c.ours);
    EXPECT_EQ(other.Responsible(c.pod), c.other_ours);
  }
}

}  // namespace
}  // namespace kubes::scheduler
