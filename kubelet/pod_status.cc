#include "kubelet/pod_status.h"

#include <set>

#include "util/strings.h"

namespace kubes::kubelet {
namespace {

std::string Time(TimePoint t) { return FormatRFC3339(t); }

bool IsSidecar(const Json& pod, const std::string& name) {
  for (const auto& c : pod["spec"].value("initContainers", Json::array())) {
    if (c.value("name", "") == name) return c.value("restartPolicy", "") == "Always";
  }
  return false;
}

Json Terminated(const runtime::ContainerStatus& s, const std::string& message) {
  Json t = {{"exitCode", s.exit_code}, {"startedAt", Time(s.started_at)}, {"finishedAt", Time(s.finished_at)},
            {"containerID", ContainerIDString(s.id)}};
  if (!s.start_error.empty()) {
    t["reason"] = "StartError";
    t["message"] = s.start_error;
    t["startedAt"] = "1970-01-01T00:00:00Z";
    return t;
  }
  if (s.state == runtime::ContainerState::kUnknown) {
    t["exitCode"] = 137;
    t["reason"] = "ContainerStatusUnknown";
    t["message"] = "The container could not be located when the pod was terminated";
    return t;
  }
  t["reason"] = s.oom_killed ? "OOMKilled" : s.exit_code == 0 ? "Completed" : "Error";
  if (!message.empty()) t["message"] = message;
  return t;
}

bool Exited(const runtime::ContainerStatus* s) {
  return s && (s->state == runtime::ContainerState::kExited || s->state == runtime::ContainerState::kUnknown);
}

// `default_waiting`: the reason of a container the runtime has not created yet —
// PodInitializing in a pod with init containers, ContainerCreating otherwise (upstream
// convertToAPIContainerStatuses).
Json ContainerStatusJson(const ContainerRecord& r, const std::string& default_waiting) {
  Json st = {{"name", r.name}, {"image", r.image_ref.empty() ? r.image : r.image_ref}, {"imageID", ""},
             {"ready", r.ready}, {"restartCount", r.current ? r.current->labels.attempt : 0},
             {"started", r.started}, {"lastState", Json::object()}};
  const runtime::ContainerStatus* cur = r.current;
  if (cur) {
    st["containerID"] = ContainerIDString(cur->id);
    st["imageID"] = cur->labels.image_ref;
  }
  if (!r.waiting_reason.empty() &&
      (!cur || Exited(cur) || cur->state == runtime::ContainerState::kCreated || r.starting)) {
    Json w = {{"reason", r.waiting_reason}};
    if (!r.waiting_message.empty()) w["message"] = r.waiting_message;
    st["state"] = {{"waiting", w}};
    if (Exited(cur)) st["lastState"] = {{"terminated", Terminated(*cur, r.message)}};
    else if (Exited(r.previous)) st["lastState"] = {{"terminated", Terminated(*r.previous, r.previous_message)}};
    return st;
  }
  if (!cur) {
    st["state"] = {{"waiting", {{"reason", default_waiting}}}};
    return st;
  }
  switch (cur->state) {
    case runtime::ContainerState::kRunning:
      st["state"] = {{"running", {{"startedAt", Time(cur->started_at)}}}};
      break;
    case runtime::ContainerState::kCreated:
      st["state"] = {{"waiting", {{"reason", "ContainerCreating"}}}};
      break;
    default:
      st["state"] = {{"terminated", Terminated(*cur, r.message)}};
  }
  if (Exited(r.previous)) st["lastState"] = {{"terminated", Terminated(*r.previous, r.previous_message)}};
  return st;
}

// Keeps lastTransitionTime when a condition's status did not change.
Json Condition(const Json& old_conditions, const std::string& type, bool status, const std::string& reason,
               const std::string& message, TimePoint now) {
  Json c = {{"type", type}, {"status", status ? "True" : "False"}, {"lastProbeTime", nullptr}};
  std::string transition = Time(now);
  for (const auto& o : old_conditions) {
    if (o.value("type", "") == type && o.value("status", "") == c["status"]) {
      transition = o.value("lastTransitionTime", transition);
    }
  }
  c["lastTransitionTime"] = transition;
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  return c;
}

std::string NameList(const std::vector<std::string>& names) { return "[" + Join(names, " ") + "]"; }

// A regular container shown running or terminated (upstream HasAnyRegularContainerStarted).
bool AnyRegularContainerStarted(const std::vector<ContainerRecord>& containers) {
  for (const auto& r : containers) {
    if (!r.current || r.starting) continue;
    if (!r.waiting_reason.empty() && r.current->state != runtime::ContainerState::kRunning) continue;  // waiting
    if (r.current->state != runtime::ContainerState::kCreated) return true;
  }
  return false;
}

}  // namespace

std::string ContainerIDString(const std::string& id) { return "kubes://" + id; }

std::string PodPhase(const Json& pod, const std::vector<ContainerRecord>& init,
                     const std::vector<ContainerRecord>& containers, bool pod_is_terminal) {
  std::string policy = pod["spec"].value("restartPolicy", "Always");
  int pending_init = 0, failed_init = 0;
  int unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const auto& r : init) {
    if (IsSidecar(pod, r.name)) {
      // A sidecar counts while it runs (pending until started) or has yet to run; one
      // that ran and stopped — restarting, or stopped because the pod is done — does not
      // count, so the regular containers alone decide Succeeded or Failed.
      if (r.current && r.current->state == runtime::ContainerState::kRunning && !r.starting) {
        if (!r.started) ++pending_init;
        ++running;
      } else if (!Exited(r.current) && !Exited(r.previous)) {
        ++pending_init;
        ++waiting;
      }
      continue;
    }
    const runtime::ContainerStatus* cur = r.current;
    if (!cur || cur->state == runtime::ContainerState::kRunning || cur->state == runtime::ContainerState::kCreated) {
      ++pending_init;
    } else if (cur->exit_code != 0 || !cur->start_error.empty()) {
      ++failed_init;
    }
  }
  for (const auto& r : containers) {
    const runtime::ContainerStatus* cur = r.current;
    if (r.starting) {
      ++waiting;
      continue;
    }
    if (!cur) {
      if (!r.waiting_reason.empty()) ++waiting;
      else ++unknown;
      continue;
    }
    switch (cur->state) {
      case runtime::ContainerState::kRunning:
        ++running;
        break;
      case runtime::ContainerState::kCreated:
        ++waiting;
        break;
      default:
        ++stopped;
        if (cur->exit_code == 0 && cur->start_error.empty() && cur->state == runtime::ContainerState::kExited) {
          ++succeeded;
        }
    }
  }
  if (failed_init > 0 && policy == "Never") return "Failed";
  // Initialization pending holds the pod Pending only until a regular container has run
  // (a sidecar restarting later, or init containers re-run in a new sandbox, do not).
  if (pending_init > 0 && !AnyRegularContainerStarted(containers)) return "Pending";
  if (waiting > 0) return "Pending";
  if (running > 0 && unknown == 0) return "Running";
  if (running == 0 && stopped > 0 && unknown == 0) {
    // Stopped for good (the pod was deleted or evicted): nothing restarts, whatever the
    // policy says.
    if (pod_is_terminal) return stopped == succeeded ? "Succeeded" : "Failed";
    if (policy == "Always") return "Running";
    if (stopped == succeeded) return "Succeeded";
    if (policy == "Never") return "Failed";
    return "Running";
  }
  return "Pending";
}

Json ComputePodStatus(const PodStatusInput& in) {
  const Json& pod = in.pod;
  Json old = pod.value("status", Json::object());
  Json old_conditions = old.value("conditions", Json::array());
  std::string phase = PodPhase(pod, in.init_containers, in.containers, in.pod_is_terminal);
  bool terminal = phase == "Succeeded" || phase == "Failed";

  Json status = old;
  status["phase"] = phase;
  if (!in.host_ip.empty()) {
    status["hostIP"] = in.host_ip;
    status["hostIPs"] = Json::array({{{"ip", in.host_ip}}});
  }
  if (!in.pod_ips.empty()) {
    status["podIP"] = in.pod_ips[0];
    status["podIPs"] = Json::array();
    for (const auto& ip : in.pod_ips) status["podIPs"].push_back({{"ip", ip}});
  }
  if (!status.contains("startTime")) status["startTime"] = Time(in.now);

  std::vector<std::string> incomplete_init, unready;
  for (const auto& r : in.init_containers) {
    bool done = IsSidecar(pod, r.name) ? r.started
                                       : (r.current && r.current->state == runtime::ContainerState::kExited &&
                                          r.current->exit_code == 0 && r.current->start_error.empty());
    if (!done) incomplete_init.push_back(r.name);
    // Sidecars count for readiness like app containers.
    if (IsSidecar(pod, r.name) && !r.ready) unready.push_back(r.name);
  }
  for (const auto& r : in.containers) {
    if (!r.ready) unready.push_back(r.name);
  }

  // A regular container that has run means the pod was initialized before, even while
  // a sidecar restarts.
  bool app_started = false;
  for (const auto& r : in.containers) {
    if (r.current && !r.starting && r.current->state != runtime::ContainerState::kCreated) app_started = true;
  }

  // Conditions others own (readiness gates, DisruptionTarget) come first and are kept as
  // they are; then the kubelet's own, PodScheduled last (upstream's status manager
  // mergePodStatus and generateAPIPodStatus).
  static const std::set<std::string> owned = {"PodReadyToStartContainers", "Initialized", "Ready",
                                              "ContainersReady", "PodScheduled"};
  Json conditions = Json::array();
  for (const auto& c : old_conditions) {
    if (!owned.count(c.value("type", ""))) conditions.push_back(c);
  }
  conditions.push_back(Condition(old_conditions, "PodReadyToStartContainers", in.sandbox_ready, "", "", in.now));
  if (terminal && phase == "Succeeded") {
    conditions.push_back(Condition(old_conditions, "Initialized", true, "PodCompleted", "", in.now));
  } else if (incomplete_init.empty() || app_started) {
    conditions.push_back(Condition(old_conditions, "Initialized", true, "", "", in.now));
  } else {
    conditions.push_back(Condition(old_conditions, "Initialized", false, "ContainersNotInitialized",
                                   "containers with incomplete status: " + NameList(incomplete_init), in.now));
  }
  // Readiness gates: conditions other components set on the pod.
  std::vector<std::string> gate_messages;
  for (const auto& gate : pod["spec"].value("readinessGates", Json::array())) {
    std::string type = gate.value("conditionType", "");
    const Json* found = nullptr;
    for (const auto& c : old_conditions) {
      if (c.value("type", "") == type) found = &c;
    }
    if (!found) {
      gate_messages.push_back("corresponding condition of pod readiness gate \"" + type + "\" does not exist.");
    } else if (found->value("status", "") != "True") {
      gate_messages.push_back("the status of pod readiness gate \"" + type + "\" is not \"True\", but " +
                              found->value("status", ""));
    }
  }
  std::string gate_message = Join(gate_messages, ", ");
  bool containers_ready = unready.empty() && !terminal;
  Json ready_cond, containers_ready_cond;
  if (terminal) {
    std::string reason = phase == "Succeeded" ? "PodCompleted" : "PodFailed";
    ready_cond = Condition(old_conditions, "Ready", false, reason, "", in.now);
    containers_ready_cond = Condition(old_conditions, "ContainersReady", false, reason, "", in.now);
  } else if (!containers_ready) {
    std::string msg = "containers with unready status: " + NameList(unready);
    ready_cond = Condition(old_conditions, "Ready", false, "ContainersNotReady", msg, in.now);
    containers_ready_cond = Condition(old_conditions, "ContainersReady", false, "ContainersNotReady", msg, in.now);
  } else {
    containers_ready_cond = Condition(old_conditions, "ContainersReady", true, "", "", in.now);
    ready_cond = gate_message.empty() ? Condition(old_conditions, "Ready", true, "", "", in.now)
                                      : Condition(old_conditions, "Ready", false, "ReadinessGatesNotReady",
                                                  gate_message, in.now);
  }
  conditions.push_back(ready_cond);
  conditions.push_back(containers_ready_cond);
  // The pod runs here, so it was scheduled (a merge patch may have dropped the
  // scheduler's condition).
  conditions.push_back(Condition(old_conditions, "PodScheduled", true, "", "", in.now));
  status["conditions"] = conditions;

  std::string default_waiting = in.init_containers.empty() ? "ContainerCreating" : "PodInitializing";
  if (!in.init_containers.empty()) {
    status["initContainerStatuses"] = Json::array();
    for (const auto& r : in.init_containers) {
      status["initContainerStatuses"].push_back(ContainerStatusJson(r, default_waiting));
    }
  }
  status["containerStatuses"] = Json::array();
  for (const auto& r : in.containers) status["containerStatuses"].push_back(ContainerStatusJson(r, default_waiting));
  if (!in.ephemeral_containers.empty()) {
    // Never ready, never restarted; upstream's prober leaves `started` unset for them.
    status["ephemeralContainerStatuses"] = Json::array();
    for (const auto& r : in.ephemeral_containers) {
      Json st = ContainerStatusJson(r, "ContainerCreating");
      st["ready"] = false;
      st["restartCount"] = 0;
      st.erase("started");
      status["ephemeralContainerStatuses"].push_back(st);
    }
  }
  return status;
}

bool RegularContainersDone(const std::string& policy, const std::vector<ContainerRecord>& containers) {
  if (policy == "Always" || containers.empty()) return false;
  for (const auto& r : containers) {
    if (!Exited(r.current)) return false;
    bool ok = r.current->state == runtime::ContainerState::kExited && r.current->exit_code == 0 &&
              r.current->start_error.empty();
    if (policy == "OnFailure" && !ok) return false;
  }
  return true;
}

}  // namespace kubes::kubelet
