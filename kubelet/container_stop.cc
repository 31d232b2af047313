// Stopping one container (upstream: kuberuntime_container.go killContainer and
// executePreStopHook, and computePodActions' decisions to kill): the Killing event,
// the preStop hook on the prober's threads with the grace period as its limit, the
// stop signal with what is left of the grace period (at least 2 s), SIGKILL at its
// end. SyncPod takes one step per run and is woken by the hook's end, the container's
// exit, or the deadline it asked for — no pod worker waits.
//
// Containers are stopped for the pod's deletion (Terminate), when the pod is done (its
// regular containers exited for good: the sidecars go), when its sandbox is gone
// (sandbox.cc) and, while the pod runs, when their liveness or startup probe failed
// (then restarted at once, as upstream) or their postStart hook failed (then restarted
// like any exit, with back-off).
//
// A whole pod stops in upstream's termination order (kuberuntime_termination_order.go):
// every container gets its Killing event and preStop hook at once; regular containers
// then get their stop signal, while each sidecar (an init container with restartPolicy
// Always) waits for its turn — until every regular container and every sidecar after it
// in spec.initContainers has exited, or the grace period is spent — so sidecars stop
// last, in reverse order, all within the one terminationGracePeriodSeconds.
#include <signal.h>

#include <algorithm>

#include "kubelet/pod_sync.h"
#include "kubelet/prober/exec.h"

namespace kubes::kubelet {
namespace {

using runtime::ContainerState;
using runtime::ContainerStatus;

constexpr int64_t kMinimumGracePeriod = 2;  // seconds a stop signal always gets

bool HasHook(const Json& c, const char* which) {
  return c.is_object() && c.contains("lifecycle") && c["lifecycle"].is_object() && c["lifecycle"].contains(which) &&
         c["lifecycle"][which].is_object();
}

}  // namespace

TimePoint PodSync::StopContainer(const Json& spec, bool init, const ContainerStatus& cur, int64_t grace,
                                 const std::string& message, bool turn) {
  // A container the spec does not name (any more) is still stopped, without hooks.
  const Json c = spec.is_object() ? spec : Json{{"name", cur.labels.container_name}};
  Kubelet::Stopping st;
  bool fresh = false;
  {
    std::lock_guard<std::mutex> lock(k_->mu_);
    auto& pod = k_->stopping_[uid_];
    auto it = pod.find(cur.id);
    if (it == pod.end()) {
      fresh = true;
      it = pod.emplace(cur.id, Kubelet::Stopping{now_, grace}).first;
      it->second.hook_running = HasHook(c, "preStop") && grace > 0;
    }
    st = it->second;
  }
  if (fresh) {
    std::string cname = cur.labels.container_name;
    Event(c, init, "Normal", "Killing", message.empty() ? "Stopping container " + cname : message);
    if (st.hook_running) {
      k_->RunPreStopHook(pod_, c, cur.id, pod_ips_.empty() ? "" : pod_ips_[0], grace);
      return now_ + std::chrono::seconds(grace);
    }
  }
  TimePoint grace_end = st.begun + std::chrono::seconds(st.grace);
  if (st.hook_running && now_ < grace_end) return grace_end;  // the hook's end wakes us sooner
  // A sidecar waits for the containers it outlives; their exits wake the pod's sync.
  if (!turn && now_ < grace_end) return grace_end;
  if (st.signalled == TimePoint{}) {
    int sig = SIGTERM;
    auto image = k_->images_->Get(cur.labels.image);
    if (image.ok() && !image->config.stop_signal.empty()) sig = SignalNumber(image->config.stop_signal);
    if (st.grace <= 0) sig = SIGKILL;  // --grace-period=0
    // What the hook left of the grace period, but never less than the minimum.
    int64_t left = st.grace - std::chrono::duration_cast<std::chrono::seconds>(now_ - st.begun).count();
    left = std::max(left, kMinimumGracePeriod);
    (void)k_->runtime_->Signal(cur.id, sig);
    TimePoint kill_at = now_ + std::chrono::seconds(left);
    std::lock_guard<std::mutex> lock(k_->mu_);
    auto& s = k_->stopping_[uid_][cur.id];
    s.signalled = now_;
    s.kill_at = kill_at;
    return kill_at;
  }
  if (now_ >= st.kill_at) {
    (void)k_->runtime_->Signal(cur.id, SIGKILL);
    return now_ + std::chrono::seconds(1);
  }
  return st.kill_at;
}

bool PodSync::KillPod(int64_t grace, TimePoint* next) {
  const Json& spec = pod_["spec"];
  auto running = [this](const std::string& name) {
    auto it = by_name_.find(name);
    return it != by_name_.end() && Running(it->second.current());
  };
  bool regular_running = false;
  for (const auto& c : spec.value("containers", Json::array())) regular_running |= running(c.value("name", ""));
  // Sidecars in spec order: each one's turn waits for those after it.
  std::vector<std::string> sidecars;
  for (const auto& c : spec.value("initContainers", Json::array())) {
    if (IsRestartableInitContainer(c)) sidecars.push_back(c.value("name", ""));
  }
  auto turn_of = [&](const std::string& name) {
    auto it = std::find(sidecars.begin(), sidecars.end(), name);
    if (it == sidecars.end()) return true;
    return !regular_running && std::none_of(it + 1, sidecars.end(), running);
  };
  if (pod_ips_.empty()) pod_ips_ = k_->network_->Addresses(uid_);
  if (spec.value("hostNetwork", false)) pod_ips_ = {k_->node_ip_};
  bool all_stopped = true;
  *next = now_ + std::chrono::seconds(1);
  for (auto& [cname, inst] : by_name_) {
    const ContainerStatus* cur = inst.current();
    if (!Running(cur)) continue;
    all_stopped = false;
    bool init = false;
    Json c = SpecOf(cname, &init);
    *next = std::min(*next, StopContainer(c, init, *cur, grace, "", turn_of(cname)));
  }
  return all_stopped;
}

void PodSync::KillIfUnhealthy(const Json& c, bool init, ContainerRecord& rec, bool restart) {
  const ContainerStatus* cur = rec.current;
  if (!cur || cur->state != ContainerState::kRunning) return;
  std::string cname = c.value("name", "");
  std::string message;
  const char* probe = nullptr;
  if (k_->probes_->LivenessFailed(cur->id)) {
    message = "Container " + cname + " failed liveness probe";
    probe = "livenessProbe";
  } else if (k_->probes_->StartupFailed(cur->id)) {
    message = "Container " + cname + " failed startup probe";
    probe = "startupProbe";
  } else if (rec.starting && rec.waiting_reason == "PostStartHookError") {
    message = "FailedPostStartHook";
  } else {
    return;
  }
  // The grace period: the probe's own terminationGracePeriodSeconds, else the pod's.
  int64_t grace = pod_["spec"].value("terminationGracePeriodSeconds", int64_t{30});
  if (probe) {
    const Json& p = c[probe];
    if (p.contains("terminationGracePeriodSeconds") && p["terminationGracePeriodSeconds"].is_number_integer()) {
      grace = p["terminationGracePeriodSeconds"].get<int64_t>();
    }
    if (restart) message += ", will be restarted";
    std::lock_guard<std::mutex> lock(k_->mu_);
    k_->restart_kills_.insert(cur->id);
  }
  RequeueAt(StopContainer(c, init, *cur, grace, message));
}

void PodSync::UpdateProbes(bool add_workers) {
  prober::PodView view;
  view.pod = pod_object_;
  view.pod_ip = pod_ips_.empty() ? "" : pod_ips_[0];
  for (const auto& [name, inst] : by_name_) {
    const ContainerStatus* cur = inst.current();
    if (!cur) continue;
    prober::ContainerView cv;
    cv.id = cur->id;
    cv.running = cur->state == ContainerState::kRunning;
    cv.terminated = Exited(cur);
    cv.started_at = cur->started_at;
    if (cv.running) {
      // Not running for the probes until its postStart hook is done.
      std::lock_guard<std::mutex> lock(k_->mu_);
      cv.running = !k_->post_start_.count(cur->id);
    }
    view.containers[name] = cv;
  }
  k_->probes_->UpdatePod(uid_, std::move(view), add_workers);
}

// ---- Kubelet's side: the hooks on the prober's threads ------------------------------

std::string UserAgentVersion(const std::string& version) {
  std::string v = version.substr(version.rfind('v', 0) == 0 ? 1 : 0);
  size_t minor_end = v.find('.', v.find('.') + 1);
  return v.substr(0, minor_end);
}

HookOptions Kubelet::HookOptionsFor(const Json& pod, std::chrono::milliseconds timeout) {
  HookOptions o;
  o.version = UserAgentVersion(options_.version);
  o.timeout = timeout;
  o.cancel = probes_->cancel();
  o.exec = [this](const std::string& id, const std::vector<std::string>& cmd, std::chrono::milliseconds t) {
    return ExecInContainer(id, cmd, t);
  };
  o.pod_event = [this, pod](const std::string& reason, const std::string& message) {
    recorder_->Event(pod, "Warning", reason, message);
  };
  return o;
}

Result<prober::ExecResult> Kubelet::ExecInContainer(const std::string& id, const std::vector<std::string>& command,
                                                    std::chrono::milliseconds timeout) {
  return prober::RunWithTimeout(runtime_->ExecCommand(id, command, false), timeout, prober::kMaxExecOutput,
                                probes_ ? probes_->cancel() : nullptr);
}

void Kubelet::RunPreStopHook(const Json& pod, const Json& container, const std::string& id,
                             const std::string& pod_ip, int64_t grace) {
  std::string uid = pod["metadata"].value("uid", "");
  probes_->RunAsync([this, pod, container, id, pod_ip, grace, uid] {
    std::string failure = RunLifecycleHandler(container["lifecycle"]["preStop"], {pod, container, id, pod_ip},
                                              HookOptionsFor(pod, std::chrono::seconds(grace)));
    if (!failure.empty()) {
      // The event does not carry the message: what a hook prints may be a secret.
      recorder_->Event(pod, prober::ContainerFieldPath(pod, container.value("name", "")), "Warning",
                       "FailedPreStopHook", "PreStopHook failed");
      std::fprintf(stderr, "kubelet: %s\n", failure.c_str());
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto pod_it = stopping_.find(uid);
      if (pod_it != stopping_.end()) {
        auto it = pod_it->second.find(id);
        if (it != pod_it->second.end()) it->second.hook_running = false;
      }
    }
    Enqueue(uid);
  });
}

}  // namespace kubes::kubelet
