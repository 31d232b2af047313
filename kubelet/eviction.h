// Node-pressure eviction of memory (upstream: pkg/kubelet/eviction — the eviction
// manager, its thresholds, signals and ranking).
//
// Every stats pass (StatsCollector::kInterval) the kubelet compares the memory left with
// the hard threshold (`--eviction-hard memory.available<100Mi`, upstream's default):
//
//   memory.available = the smaller of
//       node capacity - the machine's working set          (upstream's node signal)
//       node allocatable - the working set of all pods     (upstream's allocatable one;
//                                                           --system-reserved shrinks it)
//
// Below the threshold the node reports MemoryPressure (KubeletHasInsufficientMemory),
// the node lifecycle controller taints it node.kubernetes.io/memory-pressure:NoSchedule,
// and the kubelet evicts one pod per pass until the signal is above the threshold
// again. Which pod (upstream rankMemoryPressure):
//   1. pods using more memory than they request before the others — so BestEffort pods
//      (requesting nothing) go first and Guaranteed ones last;
//   2. then lower priority first;
//   3. then the largest use above the request.
// The evicted pod fails at once (hard threshold: no grace period) with reason Evicted,
// upstream's message, a DisruptionTarget condition (TerminationByKubelet) and an
// Evicted event.
//
// This file holds the decisions (pure, unit-tested); Kubelet::EnforceEviction
// (eviction.cc) acts on them. Not done: soft thresholds and grace periods, other
// signals (nodefs, imagefs, pid), minimum reclaim, eviction of critical pods is not
// special-cased (upstream spares static and critical pods).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace kubes::kubelet {

using Json = nlohmann::json;

struct MemoryThreshold {
  int64_t bytes = 0;       // memory.available<100Mi
  double percentage = 0;   // memory.available<5% (of capacity), when bytes is 0
  std::string quantity;    // as written: "100Mi", "5%"
  int64_t Bytes(int64_t capacity) const {
    return bytes > 0 ? bytes : static_cast<int64_t>(percentage / 100.0 * static_cast<double>(capacity));
  }
};

// "memory.available<100Mi" (upstream's --eviction-hard syntax; several signals are
// separated by commas). Only memory.available is acted on; the other upstream signals
// (nodefs.available, nodefs.inodesFree, imagefs.available, pid.available) are accepted
// and ignored; anything else is an error.
Result<MemoryThreshold> ParseEvictionHard(const std::string& flag);

// A quantity of bytes as upstream's resource.Quantity prints a BinarySI value: the
// largest binary suffix that divides it ("100Mi", "94209Ki"), else plain bytes.
std::string FormatBytes(int64_t bytes);

struct PodMemoryUse {
  Json pod;                                      // the API object (spec for requests, priority)
  int64_t working_set = 0;                       // the pod's cgroup
  std::map<std::string, int64_t> containers;     // container name → its working set
};

struct EvictionPlan {
  bool pressure = false;             // available < threshold
  std::optional<size_t> victim;      // index into the pods given
  std::string message;               // the evicted pod's status message and event
};

// available and capacity in bytes. pods: the node's pods that are running.
EvictionPlan PlanMemoryEviction(const MemoryThreshold& threshold, int64_t available, int64_t capacity,
                                const std::vector<PodMemoryUse>& pods);

}  // namespace kubes::kubelet
