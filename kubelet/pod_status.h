// The pod status the kubelet reports, computed from what the runtime says of the
// pod's containers (upstream: kubelet_pods.go generateAPIPodStatus, getPhase,
// convertToAPIContainerStatuses, and pkg/kubelet/status generate.go for the
// conditions).
//
// A pure function of its input, so every rule — phase, container states, reasons,
// conditions and their messages — is unit-tested without containers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/runtime.h"
#include "util/time.h"

namespace kubes::kubelet {

using Json = nlohmann::json;

// What the kubelet knows of one container of the pod.
struct ContainerRecord {
  std::string name;
  std::string image;                           // as the spec says
  const runtime::ContainerStatus* current = nullptr;   // latest instance, if any
  const runtime::ContainerStatus* previous = nullptr;  // the one before it
  // Set when the kubelet is not running it for a reason of its own: ContainerCreating,
  // PodInitializing, ErrImagePull, ImagePullBackOff, CrashLoopBackOff,
  // CreateContainerConfigError, …
  std::string waiting_reason;
  std::string waiting_message;
  std::string message;           // termination message of `current`
  std::string previous_message;  // … and of `previous`
  bool ready = false;
  bool started = false;
  // Running in the runtime, but its postStart hook has not finished (or failed): shown
  // as waiting (waiting_reason), as upstream shows a container whose start has not
  // returned yet.
  bool starting = false;
  std::string image_ref;  // resolved image name for status.image
};

struct PodStatusInput {
  Json pod;  // the pod as the API has it (spec and the status written before)
  bool sandbox_ready = false;
  std::vector<std::string> pod_ips;
  std::string host_ip;
  std::vector<ContainerRecord> init_containers;
  std::vector<ContainerRecord> containers;
  TimePoint now;
  bool pod_is_terminal = false;  // see PodPhase
  // Ephemeral containers (ephemeral.cc): reported, never counted for phase or readiness.
  std::vector<ContainerRecord> ephemeral_containers;
};

// The full status object (phase, conditions, IPs, container statuses, startTime,
// qosClass kept).
Json ComputePodStatus(const PodStatusInput& in);

// "Running", "Succeeded", … (exposed for tests and for SyncPod's decisions).
// pod_is_terminal: the kubelet has stopped the pod for good (deleted, evicted): its
// stopped containers make it Succeeded or Failed whatever its restart policy (upstream
// getPhase's podIsTerminal).
std::string PodPhase(const Json& pod, const std::vector<ContainerRecord>& init,
                     const std::vector<ContainerRecord>& containers, bool pod_is_terminal = false);

// Every regular container has exited and `policy` (the pod's restartPolicy) restarts
// none of them: the pod is done, and the kubelet stops its sidecars instead of
// restarting them (upstream computePodActions: KillPod when nothing is kept or started).
bool RegularContainersDone(const std::string& policy, const std::vector<ContainerRecord>& containers);

// "kubes://<id>" as status.containerID.
std::string ContainerIDString(const std::string& id);

}  // namespace kubes::kubelet
