// PodSync — one run of SyncPod for one pod: what the kubelet knows of the pod's
// containers, and the steps that bring them in line with the spec. Internal to
// kubelet/: pod_sync.cc holds the decisions (sandbox, init containers, restarts,
// termination, status), container_start.cc what starting one container takes (image,
// runtime config, the sources volumes and env read from), container_stop.cc stopping
// containers and whole pods in termination order, sandbox.cc starting over when the
// pod's sandbox is gone.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kubelet/kubelet.h"
#include "kubelet/pod_status.h"
#include "kubelet/volumes.h"
#include "runtime/runtime.h"

namespace kubes::kubelet {

// The runtime's instances of one container of a pod.
struct Instances {
  std::vector<runtime::ContainerStatus> all;  // of one container name, oldest attempt first
  const runtime::ContainerStatus* current() const { return all.empty() ? nullptr : &all.back(); }
  const runtime::ContainerStatus* previous() const { return all.size() < 2 ? nullptr : &all[all.size() - 2]; }
};

inline bool Running(const runtime::ContainerStatus* s) {
  return s && (s->state == runtime::ContainerState::kRunning || s->state == runtime::ContainerState::kCreated);
}
inline bool Exited(const runtime::ContainerStatus* s) {
  return s && (s->state == runtime::ContainerState::kExited || s->state == runtime::ContainerState::kUnknown);
}
inline bool Succeeded(const runtime::ContainerStatus* s) {
  return s && s->state == runtime::ContainerState::kExited && s->exit_code == 0 && s->start_error.empty();
}

// A sidecar: an init container with restartPolicy Always (upstream
// IsRestartableInitContainer).
inline bool IsRestartableInitContainer(const Json& c) {
  return c.is_object() && c.value("restartPolicy", "") == "Always";
}

// status.image: the spec's image as a full reference ("busybox" →
// "docker.io/library/busybox:latest"), as containerd reports it.
std::string NormalizedImage(const std::string& image);

// "SIGQUIT" or "3" → the signal number (SIGTERM for anything unknown).
int SignalNumber(const std::string& name);

// The restart count of a container's next instance when the runtime has none of it
// (its instances were removed with the old sandbox): one past the highest <n>.log in
// its log directory, 0 without any (upstream calcRestartCountByLogDir; sandbox.cc).
int RestartCountFromLogDir(const std::string& dir);

// Everything one SyncPod run works with.
class PodSync {
 public:
  // pod: the informer's object (shared, never modified); this sync works on a copy.
  PodSync(Kubelet* k, client::ObjectPtr pod) : k_(k), pod_object_(std::move(pod)), pod_(*pod_object_) {
    uid_ = pod_["metadata"].value("uid", "");
    ns_ = pod_["metadata"].value("namespace", "");
    name_ = pod_["metadata"].value("name", "");
    now_ = k_->clock_.Now();
    for (const auto& id : k_->ContainerIDsOf(uid_)) {
      auto c = k_->runtime_->Inspect(id);
      if (!c.ok()) {
        k_->ForgetContainer(uid_, id);  // removed meanwhile
        continue;
      }
      by_name_[c->labels.container_name].all.push_back(std::move(c).value());
    }
    for (auto& [n, inst] : by_name_) {
      std::sort(inst.all.begin(), inst.all.end(), [](const runtime::ContainerStatus& a, const runtime::ContainerStatus& b) {
        return a.labels.attempt != b.labels.attempt ? a.labels.attempt < b.labels.attempt : a.created_at < b.created_at;
      });
    }
  }

  void Run();
  void Terminate();  // the pod is being deleted
  void Cleanup();    // remove every trace of the pod on the node

 private:
  std::string Key(const std::string& container) const { return uid_ + "/" + container; }
  std::string FieldPath(const Json& c, bool init) const {
    if (!init && IsEphemeral(c.value("name", ""))) return "spec.ephemeralContainers{" + c.value("name", "") + "}";
    return std::string(init ? "spec.initContainers{" : "spec.containers{") + c.value("name", "") + "}";
  }
  void Event(const Json& c, bool init, const std::string& type, const std::string& reason, const std::string& msg) {
    k_->recorder_->Event(pod_, FieldPath(c, init), type, reason, msg);
  }
  bool SetUpSandbox();
  // ephemeral.cc: starts each of spec.ephemeralContainers once, never again (upstream
  // computePodActions' EphemeralContainersToStart), and keeps their records for
  // WriteStatus (EphemeralRecords).
  void SyncEphemeralContainers();
  void StartEphemeralContainer(const Json& c, ContainerRecord& rec);
  std::vector<ContainerRecord> EphemeralRecords();
  bool IsEphemeral(const std::string& name) const;
  // sandbox.cc: whether the sandbox the pod's containers ran in is gone (the node
  // rebooted, or its network namespace was removed), and the steps before a new one:
  // stop what is left, release the old network, remove the init containers so they
  // run again. False while that is under way, or when nothing would run again.
  bool SandboxChanged();
  bool PrepareNewSandbox();
  bool SetUpVolumesOnce();
  // Starts (or restarts) container `c`; on failure fills the record's waiting reason.
  void StartContainer(const Json& c, bool init, ContainerRecord& rec);
  // Builds the container's config (a failure leaves `rec` waiting with
  // CreateContainerConfigError: nullopt), lets `adjust` change it, then creates and
  // starts it with the Created/Started events; a failed start counts as an attempt that
  // ended in StartError with exit code 128, as containerd records it ("" returned).
  // The new instance is added to by_name_. Returns the running container's id.
  std::optional<std::string> Launch(const Json& c, bool init, int attempt, const runtime::images::Image& image,
                                    ContainerRecord& rec,
                                    const std::function<void(runtime::ContainerConfig&)>& adjust);
  // Decides about an exited container: restart now, wait out the back-off, or leave it.
  void HandleExited(const Json& c, bool init, bool restart, ContainerRecord& rec);
  Result<runtime::images::Image> EnsureImage(const Json& c, bool init, ContainerRecord& rec);
  Result<runtime::ContainerConfig> MakeConfig(const Json& c, bool init, int attempt,
                                              const runtime::images::Image& image);
  // What the kubelet knows of container `c` now: its instances, whether it has started
  // and is ready (the prober's results), whether its postStart hook is still running.
  ContainerRecord Record(const Json& c, bool init);
  std::string TerminationMessage(const runtime::ContainerStatus& s, const Json& c);
  void WriteStatus(const std::vector<ContainerRecord>& init, const std::vector<ContainerRecord>& app);
  void RemoveOldInstances(const std::string& name);
  // The spec of the container called `name` (app or init); null when there is none.
  Json SpecOf(const std::string& name, bool* init) const;

  // container_stop.cc
  // Takes the next step of stopping `cur` (upstream killContainer): the Killing event
  // and the preStop hook, then the stop signal once the hook is done or the grace
  // period is spent (at least 2 s are left for the signal), then SIGKILL when the
  // grace period ends. message "" means "Stopping container <name>". Returns when to
  // look again.
  // `turn` false: a sidecar whose turn has not come (KillPod) gets its event and hook
  // but no signal yet, until the grace period is spent.
  TimePoint StopContainer(const Json& c, bool init, const runtime::ContainerStatus& cur, int64_t grace,
                          const std::string& message, bool turn = true);
  // Takes the next step of stopping every running container of the pod in upstream's
  // termination order (regular ones first, then sidecars in reverse spec order) within
  // `grace` seconds. True when nothing runs any more; else `next` says when to look again.
  bool KillPod(int64_t grace, TimePoint* next);
  // Kills a running container whose liveness or startup probe failed or whose postStart
  // hook failed; `restart` says whether the pod's policy brings it back.
  void KillIfUnhealthy(const Json& c, bool init, ContainerRecord& rec, bool restart);
  // Tells the prober what this sync saw (add_workers: false while terminating).
  void UpdateProbes(bool add_workers);
  void RequeueAt(TimePoint t) {
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(t - now_);
    k_->EnqueueAfter(uid_, std::max(d, std::chrono::milliseconds(50)));
  }
  VolumeSources Sources();
  const Json& NodeStatus() {
    if (node_status_.is_null()) node_status_ = k_->BuildNode()["status"];
    return node_status_;
  }

  Kubelet* k_;
  client::ObjectPtr pod_object_;  // what the informer holds: the probes keep it
  Json pod_;
  std::string uid_, ns_, name_;
  TimePoint now_;
  std::map<std::string, Instances> by_name_;
  std::map<std::string, std::string> volumes_;
  std::vector<std::string> pod_ips_;
  bool sandbox_ready_ = false;
  bool pod_is_terminal_ = false;  // Terminate: every container stopped for good
  Json node_status_;  // the node's status (capacity, allocatable), built once per sync
  std::vector<ContainerRecord> ephemeral_recs_;  // from SyncEphemeralContainers, when it ran
  bool ephemeral_synced_ = false;
};

}  // namespace kubes::kubelet
