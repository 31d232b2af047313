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

// The condition of type `type` in a computed status (null when there is none).
Json Cond(const Json& status, const std::string& type) {
  for (const auto& c : status["conditions"]) {
    if (c["type"] == type) return c;
  }
  return Json();
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

TEST(PodPhaseTest, AStoppedPodEndsSucceededOrFailedWhateverItsPolicy) {
  // Deleted: the kubelet stopped every container (upstream getPhase with podIsTerminal).
  ContainerStatus sigterm = Exited(143), clean = Exited(0);
  for (const char* policy : {"Always", "OnFailure", "Never"}) {
    EXPECT_EQ(PodPhase(Pod(policy), {}, {Rec("c0", &sigterm)}, true), "Failed") << policy;
    EXPECT_EQ(PodPhase(Pod(policy), {}, {Rec("c0", &clean)}, true), "Succeeded") << policy;
  }
  EXPECT_EQ(PodPhase(Pod("Always"), {}, {Rec("c0", &sigterm)}, false), "Running");
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
  // Upstream (status/generate.go): a Failed pod is not ready because it failed.
  EXPECT_EQ(Cond(st, "Ready")["reason"], "PodFailed");
  EXPECT_EQ(Cond(st, "ContainersReady")["reason"], "PodFailed");
  PodStatusInput done{Pod("Never"), true, {}, "", {}, {Rec("c0", &ok)}, TimePoint{}};
  st = ComputePodStatus(done);
  EXPECT_EQ(st["phase"], "Succeeded");
  EXPECT_EQ(Cond(st, "Ready")["reason"], "PodCompleted");
  EXPECT_EQ(Cond(st, "Initialized")["reason"], "PodCompleted");
}

TEST(PodStatusTest, ReadinessGates) {
  ContainerStatus run = RunningStatus();
  Json pod = Pod("Always");
  pod["spec"]["readinessGates"] = {{{"conditionType", "example.com/feature"}}, {{"conditionType", "example.com/b"}}};
  PodStatusInput in{pod, true, {}, "", {}, {Rec("c0", &run)}, TimePoint{}};
  Json st = ComputePodStatus(in);
  EXPECT_EQ(Cond(st, "Ready")["status"], "False");
  EXPECT_EQ(Cond(st, "Ready")["reason"], "ReadinessGatesNotReady");
  EXPECT_EQ(Cond(st, "Ready")["message"],
            "corresponding condition of pod readiness gate \"example.com/feature\" does not exist., "
            "corresponding condition of pod readiness gate \"example.com/b\" does not exist.")
      << "every unready gate is named";
  EXPECT_EQ(Cond(st, "ContainersReady")["status"], "True") << "ContainersReady ignores gates";
  in.pod["status"]["conditions"].push_back({{"type", "example.com/feature"}, {"status", "True"}});
  in.pod["status"]["conditions"].push_back({{"type", "example.com/b"}, {"status", "True"}});
  st = ComputePodStatus(in);
  EXPECT_EQ(Cond(st, "Ready")["status"], "True");
  // Others' conditions first, the kubelet's after them, PodScheduled last.
  std::vector<std::string> types;
  for (const auto& c : st["conditions"]) types.push_back(c["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"example.com/feature", "example.com/b", "PodReadyToStartContainers",
                                             "Initialized", "Ready", "ContainersReady", "PodScheduled"}));
}

TEST(PodStatusTest, KubeletSetsPodScheduled) {
  // A merge patch of the status may replace every condition: the kubelet puts its own
  // back, PodScheduled included (upstream generateAPIPodStatus).
  ContainerStatus run = RunningStatus();
  Json pod = Pod("Always");
  pod["status"]["conditions"] = Json::array();
  Json st = ComputePodStatus({pod, true, {}, "", {}, {Rec("c0", &run)}, TimePoint{}});
  EXPECT_EQ(Cond(st, "PodScheduled")["status"], "True");
}

TEST(PodStatusTest, InitContainers) {
  Json pod = Pod("Always");
  pod["spec"]["initContainers"] = {{{"name", "i0"}}, {{"name", "i1"}}, {{"name", "side"}, {"restartPolicy", "Always"}}};
  ContainerStatus running = RunningStatus(), done = Exited(0);
  // The first one runs: the others, not created yet, wait with PodInitializing (upstream's
  // default state in a pod with init containers), the app container too.
  Json st = ComputePodStatus({pod, true, {}, "", {Rec("i0", &running), Rec("i1", nullptr), Rec("side", nullptr)},
                              {Rec("c0", nullptr)}, TimePoint{}});
  EXPECT_EQ(st["initContainerStatuses"][1]["state"]["waiting"]["reason"], "PodInitializing");
  EXPECT_EQ(st["containerStatuses"][0]["state"]["waiting"]["reason"], "PodInitializing");
  EXPECT_EQ(Cond(st, "Initialized")["message"], "containers with incomplete status: [i0 i1 side]");

  // Once an app container ran, the pod counts as initialized even while the sidecar
  // restarts.
  ContainerRecord i0 = Rec("i0", &done), i1 = Rec("i1", &done), side = Rec("side", &done);
  i0.ready = i1.ready = true;
  ContainerStatus app = RunningStatus(1);
  st = ComputePodStatus({pod, true, {}, "", {i0, i1, side}, {Rec("c0", &app)}, TimePoint{}});
  EXPECT_EQ(Cond(st, "Initialized")["status"], "True");
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
  EXPECT_EQ(Cond(st, "Ready")["status"], "False");
  EXPECT_EQ(Cond(st, "Ready")["reason"], "ContainersNotReady");
  EXPECT_EQ(Cond(st, "ContainersReady")["reason"], "ContainersNotReady");
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

// Sidecars (init containers with restartPolicy Always) in the phase, as upstream's
// getPhase: a running one counts as running (pending until started), one that ran and
// stopped does not count, so the regular containers alone make Succeeded or Failed.
TEST(PodPhaseTest, Sidecars) {
  ContainerStatus ok = Exited(0), bad = Exited(1), killed = Exited(143), run = RunningStatus();
  ContainerRecord side_started = Rec("side", &run);
  ContainerRecord side_starting = Rec("side", &run);  // startup probe not passed yet
  side_starting.started = side_starting.ready = false;
  ContainerRecord side_stopped = Rec("side", &killed);  // stopped because the pod is done
  ContainerRecord side_backoff = Rec("side", &bad);     // crashed, waiting to restart
  side_backoff.waiting_reason = "CrashLoopBackOff";
  ContainerRecord side_none = Rec("side", nullptr);
  ContainerRecord app_waiting = Rec("c0", nullptr);
  app_waiting.waiting_reason = "PodInitializing";
  struct Case {
    std::string name, policy;
    ContainerRecord side, app;
    std::string phase;
  } cases[] = {
      {"sidecar not created yet", "Never", side_none, app_waiting, "Pending"},
      {"sidecar running, not started", "Never", side_starting, app_waiting, "Pending"},
      {"sidecar started, app starting", "Never", side_started, app_waiting, "Pending"},
      {"both running", "Never", side_started, Rec("c0", &run), "Running"},
      {"app done, sidecar still running: not done yet", "Never", side_started, Rec("c0", &ok), "Running"},
      {"app succeeded, sidecar stopped with 143", "Never", side_stopped, Rec("c0", &ok), "Succeeded"},
      {"app failed, sidecar stopped", "Never", side_stopped, Rec("c0", &bad), "Failed"},
      {"OnFailure: app succeeded, sidecar stopped", "OnFailure", side_stopped, Rec("c0", &ok), "Succeeded"},
      {"OnFailure: app failed restarts", "OnFailure", side_stopped, Rec("c0", &bad), "Running"},
      {"Always: never done", "Always", side_stopped, Rec("c0", &ok), "Running"},
      {"sidecar crash-looping beside a running app", "Never", side_backoff, Rec("c0", &run), "Running"},
      {"sidecar restarting (not started) beside a running app", "Never", side_starting, Rec("c0", &run), "Running"},
      {"sidecar crash-looping, app succeeded", "Never", side_backoff, Rec("c0", &ok), "Succeeded"},
  };
  for (const auto& c : cases) {
    Json pod = Pod(c.policy);
    pod["spec"]["initContainers"] = {{{"name", "side"}, {"restartPolicy", "Always"}}};
    EXPECT_EQ(PodPhase(pod, {c.side}, {c.app}), c.phase) << c.name;
  }
}

TEST(PodPhaseTest, InitContainersRerunInNewSandbox) {
  // The init container runs again while the app container's last run is over: the pod
  // has been initialized before, so it is not Pending again (upstream
  // HasAnyRegularContainerStarted).
  ContainerStatus run = RunningStatus(), killed = Exited(137);
  Json pod = Pod("Always");
  pod["spec"]["initContainers"] = {{{"name", "i"}}};
  EXPECT_EQ(PodPhase(pod, {Rec("i", &run)}, {Rec("c0", &killed)}), "Running");
  EXPECT_EQ(PodPhase(pod, {Rec("i", &run)}, {Rec("c0", nullptr)}), "Pending") << "the first initialization";
}

TEST(PodPhaseTest, RegularContainersDone) {
  ContainerStatus ok = Exited(0), bad = Exited(1), run = RunningStatus();
  ContainerStatus unknown = Exited(0);
  unknown.state = ContainerState::kUnknown;
  struct Case {
    std::string policy;
    std::vector<ContainerRecord> apps;
    bool done;
  } cases[] = {
      {"Never", {Rec("c0", &ok)}, true},
      {"Never", {Rec("c0", &bad)}, true},
      {"Never", {Rec("c0", &unknown)}, true},
      {"Never", {Rec("c0", &ok), Rec("c1", &run)}, false},
      {"Never", {Rec("c0", nullptr)}, false},
      {"Never", {}, false},
      {"OnFailure", {Rec("c0", &ok)}, true},
      {"OnFailure", {Rec("c0", &bad)}, false},
      {"OnFailure", {Rec("c0", &ok), Rec("c1", &bad)}, false},
      {"Always", {Rec("c0", &ok)}, false},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    EXPECT_EQ(RegularContainersDone(cases[i].policy, cases[i].apps), cases[i].done) << "case " << i;
  }
}

}  // namespace
}  // namespace kubes::kubelet
