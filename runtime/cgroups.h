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

// Creates `path` ("/kubes-ab12/pod<uid>") in every hierarchy.
Status CreateCgroup(const std::string& path);
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

}  // namespace kubes::runtime
