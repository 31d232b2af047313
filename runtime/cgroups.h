// cgroups of pods: where they live and how they go away (upstream: the kubelet's
// cm/cgroup_manager_linux.go with the cgroupfs driver). Both layouts are handled:
// cgroup v2 (one unified tree, most machines today) and v1 (one tree per controller,
// including the hybrid layout where v1 controllers sit beside an almost empty v2).
//
// Thread-safe: stateless apart from the layout, detected once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace kubes::runtime {

struct CgroupLayout {
  bool unified = false;                  // cgroup v2 only
  std::string root = "/sys/fs/cgroup";
  std::vector<std::string> v1_controllers;  // mounted v1 hierarchies (v1/hybrid)
};

const CgroupLayout& DetectCgroups();

// Creates `path` ("/kubes-ab12/pod<uid>") in every hierarchy. On cgroup v2 the cpu,
// memory and pids controllers are enabled down the path so that limits can be set.
Status CreateCgroup(const std::string& path);

// Limits of a pod's or a QoS class's cgroup, in cgroup v1 units (upstream
// cm.ResourceConfig); unset means "leave as it is".
struct CgroupResources {
  std::optional<uint64_t> cpu_shares;    // cpu.shares (v2: converted to cpu.weight)
  std::optional<int64_t> cpu_quota_us;   // with cpu_period_us: cpu.cfs_quota_us (v2: cpu.max); -1 = none
  uint64_t cpu_period_us = 100000;
  std::optional<int64_t> memory_limit;   // bytes (v2: memory.max); -1 = none
};
// Writes the limits that are set into `path`'s files.
Status SetCgroupResources(const std::string& path, const CgroupResources& r);
// cpu.shares → cpu.weight as runc and the kubelet convert it on cgroup v2.
uint64_t CPUSharesToWeight(uint64_t shares);
// Whether `path` exists (in the memory hierarchy on v1).
bool CgroupExists(const std::string& path);
// Removes `path` and everything below it (processes must be gone).
Status RemoveCgroup(const std::string& path);
// Names of direct children of `path` (in the memory hierarchy on v1).
std::vector<std::string> ListCgroupChildren(const std::string& path);

// Usage figures for metrics and eviction: nullopt when the cgroup is gone.
struct CgroupUsage {
  uint64_t cpu_usage_ns = 0;
  uint64_t memory_working_set_bytes = 0;
};
std::optional<CgroupUsage> ReadCgroupUsage(const std::string& path);

// True when the memory controller recorded an OOM kill in `path`.
bool CgroupOOMKilled(const std::string& path);
// The file where it does: "oom_kill N" in memory.events (v2) or memory.oom_control (v1).
std::string CgroupOOMFile(const std::string& path);

}  // namespace kubes::runtime
