#include "runtime/oci_spec.h"

#include <algorithm>

namespace kubes::runtime {
namespace {

using Json = nlohmann::json;

const std::vector<std::string>& AllCapabilities() {
  static const std::vector<std::string> all = {
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
      "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
      "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
      "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
      "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
      "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
      "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"};
  return all;
}

std::string CapName(std::string c) {
  std::transform(c.begin(), c.end(), c.begin(), ::toupper);
  return c.rfind("CAP_", 0) == 0 ? c : "CAP_" + c;
}

// The effective capability set: the defaults (or all when privileged), minus drops,
// plus adds — the order the CRI applies them in (drop ALL, then add back).
std::vector<std::string> Capabilities(const ContainerConfig& c) {
  if (c.privileged) return AllCapabilities();
  std::vector<std::string> caps = DefaultCapabilities();
  for (const auto& d : c.drop_capabilities) {
    std::string name = CapName(d);
    if (name == "CAP_ALL") {
      caps.clear();
      break;
    }
    caps.erase(std::remove(caps.begin(), caps.end(), name), caps.end());
  }
  for (const auto& a : c.add_capabilities) {
    std::string name = CapName(a);
    if (name == "CAP_ALL") return AllCapabilities();
    if (std::find(caps.begin(), caps.end(), name) == caps.end()) caps.push_back(name);
  }
  return caps;
}

Json MountJson(const std::string& dest, const std::string& type, const std::string& source,
               std::vector<std::string> options) {
  return {{"destination", dest}, {"type", type}, {"source", source}, {"options", options}};
}

}  // namespace

const std::vector<std::string>& DefaultCapabilities() {
  static const std::vector<std::string> defaults = {
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
      "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
      "CAP_AUDIT_WRITE"};
  return defaults;
}

Json BuildOCISpec(const ContainerConfig& c, const std::string& rootfs) {
  std::vector<std::string> caps = Capabilities(c);
  Json process = {
      {"terminal", c.tty},
      {"user", {{"uid", c.uid}, {"gid", c.gid}}},
      {"args", c.args},
      {"env", c.env},
      {"cwd", c.working_dir.empty() ? "/" : c.working_dir},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      {"noNewPrivileges", c.privileged ? false : !c.allow_privilege_escalation.value_or(true)},
      {"oomScoreAdj", c.oom_score_adj},
  };
  if (!c.additional_gids.empty()) process["user"]["additionalGids"] = c.additional_gids;

  bool sys_ro = !c.privileged;
  Json mounts = Json::array({
      MountJson("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      MountJson("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      MountJson("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}),
      MountJson("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      MountJson("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", sys_ro ? "ro" : "rw"}),
      MountJson("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
      MountJson("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
  });
  if (c.userns_size > 0) {
    // A new user namespace cannot mount sysfs for a network namespace it does not own;
    // bind the host's read-only instead (as containerd does).
    mounts[4] = MountJson("/sys", "bind", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"});
    mounts[5] = MountJson("/sys/fs/cgroup", "bind", "/sys/fs/cgroup", {"rbind", "nosuid", "noexec", "nodev", "ro"});
  }
  for (const Mount& m : c.mounts) mounts.push_back(MountJson(m.destination, m.type, m.source, m.options));

  Json namespaces = Json::array({{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}});
  if (!c.pid_ns_path.empty()) namespaces[0]["path"] = c.pid_ns_path;
  if (!c.netns_path.empty()) namespaces.push_back({{"type", "network"}, {"path", c.netns_path}});
  if (c.userns_size > 0) {
    // Joined by path, the mappings below only tell the runtime who root is.
    namespaces.push_back(c.userns_path.empty() ? Json{{"type", "user"}} : Json{{"type", "user"}, {"path", c.userns_path}});
  }

  Json resources = {{"devices", Json::array({{{"allow", c.privileged}, {"access", "rwm"}}})}};
  if (c.resources.memory_limit_bytes > 0) resources["memory"] = {{"limit", c.resources.memory_limit_bytes}};
  Json cpu = Json::object();
  if (c.resources.cpu_shares > 0) cpu["shares"] = c.resources.cpu_shares;
  if (c.resources.cpu_quota_us > 0) {
    cpu["quota"] = c.resources.cpu_quota_us;
    cpu["period"] = c.resources.cpu_period_us;
  }
  if (!cpu.empty()) resources["cpu"] = cpu;
  if (c.resources.pids_limit > 0) resources["pids"] = {{"limit", c.resources.pids_limit}};

  Json linux_section = {
      {"namespaces", namespaces},
      {"resources", resources},
      {"cgroupsPath", c.cgroup_parent + "/" + c.id},
  };
  if (!c.privileged) {
    linux_section["maskedPaths"] = {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                            "/sys/firmware", "/sys/devices/virtual/powercap"};
    linux_section["readonlyPaths"] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  }
  if (c.userns_size > 0) {
    linux_section["uidMappings"] = {{{"containerID", 0}, {"hostID", c.userns_host_id}, {"size", c.userns_size}}};
    linux_section["gidMappings"] = {{{"containerID", 0}, {"hostID", c.userns_host_id}, {"size", c.userns_size}}};
  }

  return {
      {"ociVersion", "1.0.2"},
      {"process", process},
      {"root", {{"path", rootfs}, {"readonly", c.read_only_root}}},
      {"hostname", c.hostname},
      {"mounts", mounts},
      {"linux", linux_section},
  };
}

}  // namespace kubes::runtime
