// Pod cgroups: where a pod's cgroup lives and what it is limited to (upstream: the
// kubelet's cm package — helpers_linux.go ResourceConfigForPod, MilliCPUToShares,
// MilliCPUToQuota; qos_container_manager_linux.go for the QoS classes).
//
// The node's cgroup ("/kubes-<instance>", upstream's "/kubepods") holds Guaranteed pods
// directly and one cgroup per other QoS class:
//
//   /kubes-ab12/pod<uid>                  Guaranteed
//   /kubes-ab12/burstable/pod<uid>        Burstable
//   /kubes-ab12/besteffort/pod<uid>       BestEffort
//
// A pod's cgroup carries the pod's totals: cpu shares from its cpu requests, a cpu
// quota and a memory limit when every container has one. BestEffort gets the
// minimum cpu shares (2) for the class and its pods; Burstable's class cgroup gets the
// shares of all its pods' requests.
//
// Pure functions of the pod objects; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/cgroups.h"

namespace kubes::kubelet {

using Json = nlohmann::json;

constexpr uint64_t kMinShares = 2;
constexpr uint64_t kMaxShares = 262144;
constexpr int64_t kCPUPeriodUs = 100000;  // the cfs period upstream uses
constexpr int64_t kMinQuotaUs = 1000;

// cpu.shares for a cpu request in millicores (0 → the minimum, 2).
uint64_t MilliCPUToShares(int64_t milli_cpu);
// cpu.cfs_quota_us for a cpu limit in millicores over `period_us` (0 → 0).
int64_t MilliCPUToQuota(int64_t milli_cpu, int64_t period_us);

// The cgroup of a QoS class under the node's cgroup `root` ("Guaranteed" is the root).
std::string QOSCgroup(const std::string& root, const std::string& qos_class);
// The pod's cgroup: by its status.qosClass.
std::string PodCgroupPath(const std::string& root, const Json& pod);
// Every place a pod's cgroup can be (cleanup of a pod whose spec is gone).
std::vector<std::string> PodCgroupCandidates(const std::string& root, const std::string& uid);

// The limits of the pod's own cgroup.
runtime::CgroupResources PodCgroupResources(const Json& pod);
// The limits of the Burstable class cgroup for the node's pods (all of them: the
// function picks the Burstable ones).
runtime::CgroupResources BurstableCgroupResources(const std::vector<const Json*>& pods);

}  // namespace kubes::kubelet
