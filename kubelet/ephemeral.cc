// Ephemeral containers (upstream: kuberuntime_manager.go computePodActions, whose
// EphemeralContainersToStart lists every ephemeral container the runtime has never
// seen, and startContainer with a target's PID namespace; docs "Ephemeral
// Containers" and "Debug Running Pods").
//
// `kubectl debug` adds one through the pods/ephemeralcontainers subresource; the next
// sync starts it like a regular container — same image pull, environment, volume
// mounts, security context and network namespace (MakeConfig) — with two
// differences: when it names a targetContainerName it joins that container's PID
// namespace (/proc/<target's pid>/ns/pid), so `ps` in it shows the target's
// processes; and it runs once. Whatever it exits with, and whatever the pod's
// restartPolicy, it is never started again: the runtime keeps its one instance and
// status.ephemeralContainerStatuses reports it. It stops with the pod.
#include "kubelet/pod_sync.h"

namespace kubes::kubelet {

using runtime::ContainerState;
using runtime::ContainerStatus;

bool PodSync::IsEphemeral(const std::string& name) const {
  for (const auto& c : pod_["spec"].value("ephemeralContainers", Json::array())) {
    if (c.value("name", "") == name) return true;
  }
  return false;
}

void PodSync::SyncEphemeralContainers() {
  ephemeral_synced_ = true;
  ephemeral_recs_.clear();
  for (const auto& c : pod_["spec"].value("ephemeralContainers", Json::array())) {
    ContainerRecord rec = Record(c, false);
    // Any instance at all — running, exited, failed to start — means it had its run.
    if (!rec.current) StartEphemeralContainer(c, rec);
    ephemeral_recs_.push_back(rec);
  }
}

std::vector<ContainerRecord> PodSync::EphemeralRecords() {
  if (ephemeral_synced_) return ephemeral_recs_;
  std::vector<ContainerRecord> recs;
  for (const auto& c : pod_["spec"].value("ephemeralContainers", Json::array())) recs.push_back(Record(c, false));
  return recs;
}

void PodSync::StartEphemeralContainer(const Json& c, ContainerRecord& rec) {
  std::string cname = c.value("name", "");
  auto image = EnsureImage(c, false, rec);
  if (!image.ok()) return;
  // The target's PID namespace, while it runs (upstream getTargetID).
  std::string pid_ns;
  std::string target = c.value("targetContainerName", "");
  if (!target.empty()) {
    auto it = by_name_.find(target);
    const ContainerStatus* t = it == by_name_.end() ? nullptr : it->second.current();
    if (!t || t->state != ContainerState::kRunning || t->pid <= 0) {
      rec.waiting_reason = "CreateContainerConfigError";
      rec.waiting_message = "unable to find target container " + target;
      Event(c, false, "Warning", "Failed", "Error: " + rec.waiting_message);
      RequeueAt(now_ + std::chrono::seconds(2));
      return;
    }
    pid_ns = "/proc/" + std::to_string(t->pid) + "/ns/pid";
  }
  // As StartContainer, but a failed start is final: it is recorded as the container's
  // one attempt (StartError) and not retried.
  auto started = Launch(c, false, 0, *image, rec, [&pid_ns](runtime::ContainerConfig& cfg) {
    cfg.labels.container_type = "ephemeral";
    cfg.pid_ns_path = pid_ns;
  });
  if (!started) return;  // waiting with CreateContainerConfigError
  rec = Record(c, false);
  rec.image_ref = NormalizedImage(c.value("image", ""));
}

}  // namespace kubes::kubelet
