#include "kubelet/pod_status.h"

#include <gtest/gtest.h>

namespace kubes::kubelet {
namespace {

using runtime::ContainerState;
using runtime::ContainerStatus;

Json Pod(const std::string& policy, int containers = 1) {
  Json pod = {{"metadata", {{"name", "p"}, {"namespace", "ns"}, {"uid", "u"}}},
              {"spec", {{"restartPolicy", policy}, {"containers", Json::array()}}},
              {"status", {{"phase", "Pending"},
                          {"conditions", {{{"type", "PodScheduled"}, {"status", "True"}}}}}}};
  for (int i = 0; i < containers; ++i) pod["spec"]["containers"].push_back({{"name", "c" + std::to_string(i)}});
  return pod;
}

ContainerStatus Exited(int code, int attempt = 0, bool oom = false) {
  ContainerStatus s;
  s.id = "id" + std::to_string(attempt);
  s.state = ContainerState::kExited;
  s.exit_code = code;
  s.oom_killed = oom;
  s.labels.attempt = attempt;
  return s;
}

ContainerStatus RunningStatus(int attempt = 0) {
  ContainerStatus s;
  s.id = "run" + std::to_string(attempt);
  s.state = ContainerState::kRunning;
  s.labels.attempt = attempt;
  return s;
}

ContainerRecord Rec(const std::string& name, const ContainerStatus* cur, const ContainerStatus* prev = nullptr) {
  ContainerRecord r;
  r.name = name;
  r.image = "busybox";
  r.current = cur;
  r.previous = prev;
  r.started = r.ready = cur && cur->state == ContainerState::kRunning;
  return r;
}

TEST(PodPhaseTest, UpstreamRules) {
  ContainerStatus ok = Exited(0), bad = Exited(1), run = RunningStatus();
  EXPECT_EQ(PodPhase(Pod("Always"), {}, {Rec("c0", nullptr)}), "Pending");
  EXPECT_EQ(PodPhase(Pod("Always"), {}, {Rec("c0", &run)}), "Running");
  EXPECT_EQ(PodPhase(Pod("Always"), {}, {Rec("c0", &ok)}), "Running") << "Always restarts even a success";
  EXPECT_EQ(PodPhase(Pod("Never"), {}, {Rec("c0", &ok)}), "Succeeded");
  EXPECT_EQ(PodPhase(Pod("Never"), {}, {Rec("c0", &bad)}), "Failed");
  EXPECT_EQ(PodPhase(Pod("OnFailure"), {}, {Rec("c0", &bad)}), "Running");
  EXPECT_EQ(PodPhase(Pod("OnFailure"), {}, {Rec("c0", &ok)}), "Succeeded");
  EXPECT_EQ(PodPhase(Pod("Never", 2), {}, {Rec("c0", &ok), Rec("c1", &run)}), "Running");
  Json with_init = Pod("Never");
  with_init["spec"]["initContainers"] = {{{"name", "i"}}};
  EXPECT_EQ(PodPhase(with_init, {Rec("i", &bad)}, {Rec("c0", nullptr)}), "Failed");
  EXPECT_EQ(PodPhase(with_init, {Rec("i", &run)}, {Rec("c0", nullptr)}), "Pending");
  ContainerRecord waiting = Rec("c0", &bad);
  waiting.waiting_reason = "CrashLoopBackOff";
  EXPECT_EQ(PodPhase(Pod("Always"), {}, {waiting}), "Running");
}

TEST(PodStatusTest, CrashLoopShowsWaitingWithLastState) {
  ContainerStatus prev = Exited(1, 2);
  ContainerRecord r = Rec("c0", &prev);
  r.waiting_reason = "CrashLoopBackOff";
  r.waiting_message = "back-off 40s restarting failed container=c0 pod=p_ns(u)";
  PodStatusInput in{Pod("Always"), true, {"10.42.0.9"}, "192.0.2.1", {}, {r}, TimePoint{} + std::chrono::hours(1)};
  Json st = ComputePodStatus(in);
  const Json& cs = st["containerStatuses"][0];
  EXPECT_EQ(cs["state"]["waiting"]["reason"], "CrashLoopBackOff");
  EXPECT_EQ(cs["lastState"]["terminated"]["reason"], "Error");
  EXPECT_EQ(cs["lastState"]["terminated"]["exitCode"], 1);
  EXPECT_EQ(cs["restartCount"], 2);
  EXPECT_EQ(cs["ready"], false);
  EXPECT_EQ(st["podIP"], "10.42.0.9");
  EXPECT_EQ(st["hostIP"], "192.0.2.1");
  // Conditions in upstream's order, PodScheduled kept.
  std::vector<std::string> types;
  for (const auto& c : st["conditions"]) types.push_back(c["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                             "PodScheduled"}));
  EXPECT_EQ(st["conditions"][2]["reason"], "ContainersNotReady");
  EXPECT_EQ(st["conditions"][2]["message"], "containers with unready status: [c0]");
}

TEST(PodStatusTest, OOMKilledAndCompleted) {
  ContainerStatus oom = Exited(137, 0, true), ok = Exited(0);
  PodStatusInput in{Pod("Never", 2), true, {}, "", {}, {Rec("c0", &oom), Rec("c1", &ok)}, TimePoint{}};
  Json st = ComputePodStatus(in);
  EXPECT_EQ(st["phase"], "Failed");
  EXPECT_EQ(st["containerStatuses"][0]["state"]["terminated"]["reason"], "OOMKilled");
  EXPECT_EQ(st["containerStatuses"][1]["state"]["terminated"]["reason"], "Completed");
  EXPECT_EQ(st["conditions"][2]["reason"], "PodCompleted");
}

TEST(PodStatusTest, ReadinessGates) {
  ContainerStatus run = RunningStatus();
  Json pod = Pod("Always");
  pod["spec"]["readinessGates"] = {{{"conditionType", "example.com/feature"}}};
  PodStatusInput in{pod, true, {}, "", {}, {Rec("c0", &run)}, TimePoint{}};
  Json st = ComputePodStatus(in);
  EXPECT_EQ(st["conditions"][2]["status"], "False");
  EXPECT_EQ(st["conditions"][2]["reason"], "ReadinessGatesNotReady");
  EXPECT_EQ(st["conditions"][3]["status"], "True") << "ContainersReady ignores gates";
  in.pod["status"]["conditions"].push_back({{"type", "example.com/feature"}, {"status", "True"}});
  st = ComputePodStatus(in);
  EXPECT_EQ(st["conditions"][2]["status"], "True");
}

TEST(PodStatusTest, RunningButNotReady) {
  // A failing readiness probe: Running, started, not ready.
  ContainerStatus run = RunningStatus();
  ContainerRecord r = Rec("c0", &run);
  r.ready = false;
  Json st = ComputePodStatus({Pod("Always"), true, {}, "", {}, {r}, TimePoint{}});
  EXPECT_EQ(st["phase"], "Running");
  const Json& cs = st["containerStatuses"][0];
  EXPECT_TRUE(cs["state"].contains("running"));
  EXPECT_EQ(cs["started"], true);
  EXPECT_EQ(cs["ready"], false);
  EXPECT_EQ(st["conditions"][2]["status"], "False");
  EXPECT_EQ(st["conditions"][2]["reason"], "ContainersNotReady");
  EXPECT_EQ(st["conditions"][3]["reason"], "ContainersNotReady");
}

TEST(PodStatusTest, PostStartHookInProgressIsWaiting) {
  ContainerStatus prev = Exited(137, 0), run = RunningStatus(1);
  struct Case {
    std::string reason, message;
  } cases[] = {{"ContainerCreating", ""},
               {"PostStartHookError", "Exec lifecycle hook ([false]) for Container \"c0\" in Pod \"p_ns(u)\" failed"}};
  for (const auto& c : cases) {
    ContainerRecord r = Rec("c0", &run, &prev);
    r.starting = true;
    r.started = r.ready = false;
    r.waiting_reason = c.reason;
    r.waiting_message = c.message;
    Json st = ComputePodStatus({Pod("Always"), true, {}, "", {}, {r}, TimePoint{}});
    EXPECT_EQ(st["phase"], "Pending") << c.reason;
    const Json& cs = st["containerStatuses"][0];
    EXPECT_EQ(cs["state"]["waiting"]["reason"], c.reason);
    EXPECT_EQ(cs["state"]["waiting"].value("message", ""), c.message);
    EXPECT_EQ(cs["lastState"]["terminated"]["exitCode"], 137);
    EXPECT_EQ(cs["started"], false);
    EXPECT_EQ(cs["containerID"], "kubes://run1");
  }
}

}  // namespace
}  // namespace kubes::kubelet
