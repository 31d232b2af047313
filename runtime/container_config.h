// ContainerConfig — everything the runtime needs to start one container, in the
// runtime's own terms (upstream: the CRI's ContainerConfig + PodSandboxConfig, the
// boundary between the kubelet and containerd/CRI-O). The kubelet turns a Pod's
// container spec into one of these; the runtime turns it into an OCI bundle.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kubes::runtime {

struct Mount {
  std::string destination;  // path in the container
  std::string source;       // path on the host (or "tmpfs", "proc", ...)
  std::string type = "bind";
  std::vector<std::string> options;  // "rbind", "ro", "nosuid", ...
};

// Linux resources of one container (cgroup v1 and v2 alike; the OCI runtime maps them).
struct Resources {
  int64_t memory_limit_bytes = 0;  // 0 = no limit
  uint64_t cpu_shares = 0;         // 0 = runtime default; from requests.cpu (1 CPU = 1024)
  int64_t cpu_quota_us = 0;        // 0 = no quota; from limits.cpu over cpu_period_us
  uint64_t cpu_period_us = 100000;
  int64_t pids_limit = 0;
};

// Labels the runtime keeps with a container so the kubelet can find it again after a
// restart (upstream: the io.kubernetes.* labels containerd stores).
struct ContainerLabels {
  std::string pod_uid;
  std::string pod_namespace;
  std::string pod_name;
  std::string container_name;
  std::string container_type;  // "init", "regular", "ephemeral"
  int attempt = 0;             // restart count when this instance was created
  std::string image;           // as the pod spec says it
  std::string image_ref;       // resolved: repo digest or image id
  std::string image_id;        // sha256:… of the image config
  std::string spec_hash;       // hash of the container spec that created it
  std::string termination_message_path;
  std::string termination_message_policy;
};

struct ContainerConfig {
  std::string id;  // 64 hex characters, from NewContainerID()
  ContainerLabels labels;

  std::vector<std::string> args;  // argv, already resolved from command/args/image
  std::vector<std::string> env;   // "KEY=value"
  std::string working_dir = "/";
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
  bool tty = false;
  bool stdin = false;
  bool stdin_once = false;

  std::vector<std::string> layers;  // image layer directories, lowest first
  bool read_only_root = false;
  std::vector<Mount> mounts;

  std::string hostname;
  std::string netns_path;        // "" = the host's network namespace
  std::string pid_ns_path;       // "" = a new PID namespace (ephemeral containers join a target's)
  bool privileged = false;
  std::vector<std::string> add_capabilities;   // "NET_ADMIN" or "CAP_NET_ADMIN"
  std::vector<std::string> drop_capabilities;  // "ALL" drops every default
  std::optional<bool> allow_privilege_escalation;
  std::string cgroup_parent;  // "/kubes-ab12cd34/pod<uid>" relative to the cgroup root
  Resources resources;
  int oom_score_adj = 0;
  // User namespace (hostUsers: false): container IDs 0..size map to host_id..
  uint32_t userns_host_id = 0;
  uint32_t userns_size = 0;
  std::string userns_path;  // the pod's pinned user namespace to join ("" = a new one)

  std::string log_path;  // CRI-format log file the monitor writes
  int stop_signal = 15;  // SIGTERM unless the image says otherwise
};

}  // namespace kubes::runtime
