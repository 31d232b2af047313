#include "kubelet/prober/worker.h"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>

namespace kubes::kubelet::prober {
namespace {

using std::chrono::seconds;

// A prober whose exec "command" answers from a script: 'S' exits 0, 'F' exits 1 with
// "boom", 'E' cannot run at all.
struct Fixture {
  std::deque<char> script;
  int calls = 0;
  std::vector<std::string> events;
  std::vector<std::string> updates;
  Prober prober{ProberOptions{
      "1.32",
      [this](const std::string&, const std::vector<std::string>&, std::chrono::milliseconds) -> Result<ExecResult> {
        ++calls;
        char next = script.empty() ? 'S' : script.front();
        if (!script.empty()) script.pop_front();
        if (next == 'E') return Internal("runtime down");
        return ExecResult{next == 'S' ? 0 : 1, next == 'S' ? "" : "boom", false};
      },
      [this](const Json&, const std::string& path, const std::string& type, const std::string& reason,
             const std::string& msg) { events.push_back(path + " " + type + " " + reason + ": " + msg); },
      nullptr}};
  ResultsManager results{[this](const std::string& uid) { updates.push_back(uid); }};
  ResultsManager startup;
  TimePoint t0 = TimePoint(seconds(1700000000));

  Json Container(const char* field, Json extra = Json::object()) {
    Json probe = {{"exec", {{"command", {"check"}}}}, {"periodSeconds", 1}};
    probe.update(extra);
    return {{"name", "app"}, {field, probe}};
  }
  PodView Pod(const Json& container, bool running = true, const std::string& id = "c1") {
    PodView v;
    v.pod = std::make_shared<const Json>(Json{{"metadata", {{"name", "web"}, {"namespace", "default"}, {"uid", "u1"}}},
                                              {"spec", {{"containers", {container}}, {"restartPolicy", "Always"}}}});
    v.pod_ip = "10.42.0.7";
    v.containers["app"] = {id, running, !running, t0};
    return v;
  }
  std::string Stored(const std::string& id = "c1") {
    ProbeResult r;
    if (!results.Get(id, &r)) return "-";
    return r == ProbeResult::kSuccess ? "S" : r == ProbeResult::kFailure ? "F" : "U";
  }
};

TEST(WorkerTest, Thresholds) {
  struct Case {
    const char* name;
    ProbeType type;
    int success_threshold, failure_threshold;
    const char* script;  // what each tick's probe says
    const char* want;    // the stored result after each tick
    int calls;           // probes actually run
  } cases[] = {
      {"liveness fails after three", ProbeType::kLiveness, 1, 3, "FFFS", "SSFF", 3},  // then holds
      {"liveness: failures must be in a row", ProbeType::kLiveness, 1, 3, "FFSFF", "SSSSS", 5},
      {"errors do not count", ProbeType::kLiveness, 1, 3, "FEFF", "SSSF", 6},
      {"readiness starts as failure", ProbeType::kReadiness, 1, 3, "S", "S", 1},
      {"readiness success threshold", ProbeType::kReadiness, 2, 1, "SSFSS", "FSFFS", 5},
      {"startup starts unknown", ProbeType::kStartup, 1, 2, "FFF", "UFF", 2},
      {"startup succeeds", ProbeType::kStartup, 1, 2, "FS", "US", 2},
  };
  for (const auto& c : cases) {
    Fixture f;
    const char* field = ProbeField(c.type);
    Json container = f.Container(field, {{"successThreshold", c.success_threshold}, {"failureThreshold", c.failure_threshold}});
    Worker w("u1", container, c.type, {&f.prober, &f.results, &f.startup});
    PodView pod = f.Pod(container);
    for (const char* s = c.script; *s; ++s) {
      // An error is retried three times within one tick.
      for (int i = 0; i < (*s == 'E' ? 3 : 1); ++i) f.script.push_back(*s);
    }
    std::string got;
    for (size_t i = 0; i < std::strlen(c.script); ++i) {
      EXPECT_TRUE(w.DoProbe(&pod, f.t0 + seconds(i)));
      got += f.Stored();
    }
    EXPECT_EQ(got, c.want) << c.name;
    EXPECT_EQ(f.calls, c.calls) << c.name;
  }
}

TEST(WorkerTest, ANewContainerResumesAfterALivenessFailure) {
  Fixture f;
  Json container = f.Container("livenessProbe", {{"failureThreshold", 1}});
  Worker w("u1", container, ProbeType::kLiveness, {&f.prober, &f.results, &f.startup});
  PodView pod = f.Pod(container);
  f.script = {'F', 'S'};
  w.DoProbe(&pod, f.t0);
  EXPECT_EQ(f.Stored(), "F");
  w.DoProbe(&pod, f.t0 + seconds(1));  // on hold: nothing runs
  EXPECT_EQ(f.calls, 1);
  pod.containers["app"].id = "c2";
  w.DoProbe(&pod, f.t0 + seconds(2));
  EXPECT_EQ(f.calls, 2);
  EXPECT_EQ(f.Stored("c2"), "S");
  EXPECT_EQ(f.Stored("c1"), "-");  // the old container's result is gone
}

TEST(WorkerTest, InitialDelay) {
  Fixture f;
  Json container = f.Container("readinessProbe", {{"initialDelaySeconds", 5}});
  Worker w("u1", container, ProbeType::kReadiness, {&f.prober, &f.results, &f.startup});
  PodView pod = f.Pod(container);
  w.DoProbe(&pod, f.t0 + seconds(4));
  EXPECT_EQ(f.calls, 0);
  EXPECT_EQ(f.Stored(), "F");  // not ready before its first probe
  w.DoProbe(&pod, f.t0 + seconds(5));
  EXPECT_EQ(f.calls, 1);
  EXPECT_EQ(f.Stored(), "S");
}

TEST(WorkerTest, StartupProbeGatesTheOthers) {
  Fixture f;
  Json container = f.Container("livenessProbe");
  container["startupProbe"] = container["livenessProbe"];
  Worker liveness("u1", container, ProbeType::kLiveness, {&f.prober, &f.results, &f.startup});
  Worker startup("u1", container, ProbeType::kStartup, {&f.prober, &f.startup, &f.startup});
  PodView pod = f.Pod(container);
  liveness.DoProbe(&pod, f.t0);
  EXPECT_EQ(f.calls, 0);  // not started: liveness waits
  startup.DoProbe(&pod, f.t0);
  EXPECT_EQ(f.calls, 1);
  EXPECT_TRUE(IsStarted(container, "c1", f.startup));
  startup.DoProbe(&pod, f.t0 + seconds(1));
  EXPECT_EQ(f.calls, 1);  // a started container's startup probe rests
  liveness.DoProbe(&pod, f.t0 + seconds(1));
  EXPECT_EQ(f.calls, 2);
}

TEST(WorkerTest, ContainersThatAreNotRunning) {
  Fixture f;
  Json container = f.Container("readinessProbe");
  Worker w("u1", container, ProbeType::kReadiness, {&f.prober, &f.results, &f.startup});
  PodView pod = f.Pod(container, false);
  EXPECT_TRUE(w.DoProbe(&pod, f.t0));  // restartPolicy Always: it will come back
  EXPECT_EQ(f.Stored(), "F");
  Json never = *pod.pod;
  never["spec"]["restartPolicy"] = "Never";
  pod.pod = std::make_shared<const Json>(never);
  EXPECT_FALSE(w.DoProbe(&pod, f.t0));  // it will not: the worker ends
  EXPECT_EQ(f.calls, 0);

  PodView none = f.Pod(container, false, "");
  EXPECT_TRUE(w.DoProbe(&none, f.t0));  // not created yet
  EXPECT_TRUE(w.DoProbe(nullptr, f.t0));  // not synced yet
  PodView done = f.Pod(container);
  done.terminal = true;
  EXPECT_FALSE(w.DoProbe(&done, f.t0));
}

TEST(WorkerTest, DeletionQuietsLivenessNotReadiness) {
  Fixture f;
  Json container = f.Container("livenessProbe");
  container["readinessProbe"] = container["livenessProbe"];
  ResultsManager readiness;
  Worker liveness("u1", container, ProbeType::kLiveness, {&f.prober, &f.results, &f.startup});
  Worker ready("u1", container, ProbeType::kReadiness, {&f.prober, &readiness, &f.startup});
  PodView pod = f.Pod(container);
  Json deleting = *pod.pod;
  deleting["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  pod.pod = std::make_shared<const Json>(deleting);
  f.script = {'F', 'F'};
  EXPECT_FALSE(liveness.DoProbe(&pod, f.t0));
  EXPECT_EQ(f.Stored(), "S");
  EXPECT_TRUE(ready.DoProbe(&pod, f.t0));
  EXPECT_EQ(f.calls, 1);
}

TEST(WorkerTest, EventsAndUpdates) {
  Fixture f;
  Json container = f.Container("livenessProbe", {{"failureThreshold", 2}});
  Worker w("u1", container, ProbeType::kLiveness, {&f.prober, &f.results, &f.startup});
  PodView pod = f.Pod(container);
  f.script = {'E', 'E', 'E', 'F', 'F'};
  w.DoProbe(&pod, f.t0);  // three attempts, all errors: one event, nothing counted
  w.DoProbe(&pod, f.t0 + seconds(1));
  w.DoProbe(&pod, f.t0 + seconds(2));
  EXPECT_EQ(f.events, (std::vector<std::string>{
                          "spec.containers{app} Warning Unhealthy: Liveness probe errored and resulted in unknown state: "
                          "runtime down",
                          "spec.containers{app} Warning Unhealthy: Liveness probe failed: boom",
                          "spec.containers{app} Warning Unhealthy: Liveness probe failed: boom"}));
  // Set to the initial Success, then to Failure: two changes.
  EXPECT_EQ(f.updates, (std::vector<std::string>{"u1", "u1"}));
}

}  // namespace
}  // namespace kubes::kubelet::prober
