// The Pod printer (upstream printers.go: printPod). READY, STATUS and RESTARTS are
// summaries kubectl users read every day, so the rules below follow upstream closely:
//
//  - STATUS starts as status.reason or the phase, then the first init container that
//    has not finished explains it ("Init:1/3", "Init:CrashLoopBackOff", "Init:Error");
//    once initialised, the last container with a waiting or terminated reason wins
//    ("CrashLoopBackOff", "Completed", "ExitCode:2"). A deleted pod that has not
//    finished shows "Terminating".
//  - READY counts ready containers, sidecars (init containers with restartPolicy
//    Always) included, out of containers plus sidecars.
//  - RESTARTS sums restartCount and appends how long ago the last restart was.
#include "apiserver/printers/printers.h"

#include <map>

namespace kubes::apiserver {
namespace {

using namespace printers;

bool IsRestartableInit(const Json& container) { return Str(Get(container, "restartPolicy")) == "Always"; }

// The most recent lastState.terminated.finishedAt seen so far.
struct LastRestart {
  std::optional<TimePoint> at;
  void Note(const Json& container_status) {
    auto t = ParseRFC3339(Str(Get(container_status, "lastState", "terminated", "finishedAt")));
    if (t && (!at || *t > *at)) at = t;
  }
};

bool AnyConditionTrue(const Json& status, std::string_view type) {
  for (const auto& c : Items(Get(status, "conditions"))) {
    if (Str(Get(c, "type")) == type && Str(Get(c, "status")) == "True") return true;
  }
  return false;
}

// "Init:Error", "Init:Signal:9" or "Init:ExitCode:1" for a failed init container.
std::string FailedInitReason(const Json& terminated) {
  std::string reason = Str(Get(terminated, "reason"));
  if (!reason.empty()) return "Init:" + reason;
  if (Int(Get(terminated, "signal")) != 0) return "Init:Signal:" + std::to_string(Int(Get(terminated, "signal")));
  return "Init:ExitCode:" + std::to_string(Int(Get(terminated, "exitCode")));
}

std::string ReadinessGates(const Json& spec, const Json& status) {
  const Json& gates = Items(Get(spec, "readinessGates"));
  if (gates.empty()) return "<none>";
  int true_gates = 0;
  for (const auto& g : gates) {
    // Like upstream, only the first condition of the gate's type counts.
    std::string type = Str(Get(g, "conditionType"));
    for (const auto& c : Items(Get(status, "conditions"))) {
      if (Str(Get(c, "type")) != type) continue;
      if (Str(Get(c, "status")) == "True") ++true_gates;
      break;
    }
  }
  return std::to_string(true_gates) + "/" + std::to_string(gates.size());
}

Json PodRow(const Json& pod, TimePoint now) {
  const Json& spec = Get(pod, "spec");
  const Json& status = Get(pod, "status");
  const std::string phase = Str(Get(status, "phase"));

  std::string reason = phase;
  if (!Str(Get(status, "reason")).empty()) reason = Str(Get(status, "reason"));
  for (const auto& c : Items(Get(status, "conditions"))) {
    if (Str(Get(c, "type")) == "PodScheduled" && Str(Get(c, "reason")) == "SchedulingGated") reason = "SchedulingGated";
  }

  std::map<std::string, const Json*> init_containers;
  int64_t total = static_cast<int64_t>(Items(Get(spec, "containers")).size()), ready = 0;
  const Json& init_specs = Items(Get(spec, "initContainers"));
  for (const auto& c : init_specs) {
    init_containers[Str(Get(c, "name"))] = &c;
    if (IsRestartableInit(c)) ++total;
  }
  auto is_sidecar = [&](const Json& cs) {
    auto it = init_containers.find(Str(Get(cs, "name")));
    return it != init_containers.end() && IsRestartableInit(*it->second);
  };

  // Init containers run in order: the first one that has not finished explains the pod.
  int64_t restarts = 0, sidecar_restarts = 0;
  LastRestart last_restart, last_sidecar_restart;
  bool initializing = false;
  const Json& init_statuses = Items(Get(status, "initContainerStatuses"));
  for (size_t i = 0; i < init_statuses.size(); ++i) {
    const Json& cs = init_statuses[i];
    const Json& state = Get(cs, "state");
    restarts += Int(Get(cs, "restartCount"));
    last_restart.Note(cs);
    const bool sidecar = is_sidecar(cs);
    if (sidecar) {
      sidecar_restarts += Int(Get(cs, "restartCount"));
      last_sidecar_restart.Note(cs);
    }
    const Json& terminated = Get(state, "terminated");
    const std::string waiting_reason = Str(Get(state, "waiting", "reason"));
    if (Has(terminated) && Int(Get(terminated, "exitCode")) == 0) continue;
    if (sidecar && IsTrue(Get(cs, "started"))) {
      if (IsTrue(Get(cs, "ready"))) ++ready;
      continue;
    }
    if (Has(terminated)) {
      reason = FailedInitReason(terminated);
    } else if (!waiting_reason.empty() && waiting_reason != "PodInitializing") {
      reason = "Init:" + waiting_reason;
    } else {
      reason = "Init:" + std::to_string(i) + "/" + std::to_string(init_specs.size());
    }
    initializing = true;
    break;
  }

  if (!initializing || ConditionTrue(status, "Initialized")) {
    // Once initialised, restarts of init containers that ran to completion no longer count.
    restarts = sidecar_restarts;
    last_restart = last_sidecar_restart;
    bool has_running = false;
    const Json& statuses = Items(Get(status, "containerStatuses"));
    for (size_t k = statuses.size(); k-- > 0;) {
      const Json& cs = statuses[k];
      const Json& state = Get(cs, "state");
      const Json& terminated = Get(state, "terminated");
      restarts += Int(Get(cs, "restartCount"));
      last_restart.Note(cs);
      if (!Str(Get(state, "waiting", "reason")).empty()) {
        reason = Str(Get(state, "waiting", "reason"));
      } else if (!Str(Get(terminated, "reason")).empty()) {
        reason = Str(Get(terminated, "reason"));
      } else if (Has(terminated)) {
        reason = Int(Get(terminated, "signal")) != 0 ? "Signal:" + std::to_string(Int(Get(terminated, "signal")))
                                                     : "ExitCode:" + std::to_string(Int(Get(terminated, "exitCode")));
      } else if (IsTrue(Get(cs, "ready")) && Has(Get(state, "running"))) {
        has_running = true;
        ++ready;
      }
    }
    // A container still running means the pod is not done, whatever the others say.
    if (reason == "Completed" && has_running) reason = AnyConditionTrue(status, "Ready") ? "Running" : "NotReady";
  }

  const bool deleting = Has(Get(pod, "metadata", "deletionTimestamp"));
  if (deleting && Str(Get(status, "reason")) == "NodeLost") {
    reason = "Unknown";
  } else if (deleting && phase != "Succeeded" && phase != "Failed") {
    reason = "Terminating";
  }

  std::string restarts_cell = std::to_string(restarts);
  if (restarts != 0 && last_restart.at) {
    restarts_cell += " (" + HumanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *last_restart.at)) +
                     " ago)";
  }

  // status.podIPs[0]; older objects may only carry status.podIP.
  const Json& pod_ips = Items(Get(status, "podIPs"));
  const std::string ip = pod_ips.empty() ? Str(Get(status, "podIP")) : Str(Get(pod_ips[0], "ip"));
  return Json::array({Name(pod), std::to_string(ready) + "/" + std::to_string(total), reason, restarts_cell,
                      Age(pod, now), OrNone(ip), OrNone(Str(Get(spec, "nodeName"))),
                      OrNone(Str(Get(status, "nominatedNodeName"))), ReadinessGates(spec, status)});
}

}  // namespace

void RegisterPodPrinters() {
  Register("", "Pod",
           {{NameColumn(),
             Col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
             Col("Status", "string", "The aggregate status of the containers in this pod."),
             Col("Restarts", "string",
                 "The number of times the containers in this pod have been restarted and when the last container "
                 "in this pod has restarted."),
             AgeColumn(),
             Wide("IP", "string", "IP address allocated to the pod."),
             Wide("Node", "string", "The node the pod is scheduled onto."),
             Wide("Nominated Node", "string", "The node the scheduler is preempting other pods on to make room."),
             Wide("Readiness Gates", "string", "Readiness gates that are true, out of all of them.")},
            PodRow});
}

}  // namespace kubes::apiserver
