// StatsCollector — how much CPU and memory the node, its pods and their containers use,
// served as the kubelet's Summary API, GET /stats/summary (upstream: the kubelet's
// pkg/kubelet/server/stats and its cadvisor-backed summary provider). metrics/ reads it
// from every node to serve metrics.k8s.io, which `kubectl top` and the
// HorizontalPodAutoscaler use.
//
// Why /stats/summary and not /metrics/resource. Both are upstream endpoints that
// metrics-server has scraped (the summary until v0.6, the Prometheus text since). The
// Prometheus endpoint carries cumulative CPU seconds, so the reader must keep the
// previous scrape of every container to turn them into a rate, and it knows nothing
// until it has scraped twice. The summary carries the rate itself (usageNanoCores),
// computed here where the readings are; metrics/ then stays stateless apart from a
// short cache, and the answer is JSON, which kubes reads everywhere (no Prometheus text
// parser needed).
//
// CPU. A cgroup counts the CPU time its processes used since it was made; a rate needs
// two readings. Collect() reads every pod and container cgroup (the kubelet calls it
// every kInterval = 5 s) and keeps each one's readings of the last few windows. The
// rate is taken between the newest reading and the one kWindow = 15 s before it
// (upstream's cadvisor samples every 10-15 s in the same way), so a container shows
// CPU use from its fourth reading on — about 15 s after it starts.
// Memory: the working set, usage minus inactive file pages (upstream's definition;
// runtime/cgroups.cc reads it for cgroup v1 and v2).
// The node: /proc/stat and /proc/meminfo rather than the root cgroup. Upstream reads
// the root cgroup, which counts every process of the machine — so does /proc — but
// cgroup v2 has no memory.current at its root, and /proc reads the same on v1 and v2.
//
// All reading of the machine goes through UsageReader, so tests give a fake one.
//
// Thread-safety: Collect and Summary may be called from any thread (one mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cgroups.h"
#include "util/time.h"

namespace kubes::kubelet {

// What the collector reads from the machine.
class UsageReader {
 public:
  virtual ~UsageReader() = default;
  // CPU time and working set of a cgroup ("/kubes-ab12/pod<uid>"); nullopt when it is gone.
  virtual std::optional<runtime::CgroupUsage> Cgroup(const std::string& path) = 0;
  // The same for the whole machine.
  virtual std::optional<runtime::CgroupUsage> Node() = 0;
};

// The real machine: cgroups through runtime/cgroups.h, the node through /proc.
std::unique_ptr<UsageReader> NewMachineUsageReader();

// CPU time of all CPUs from /proc/stat's first line (user, nice, system, irq, softirq
// and steal ticks — not idle or iowait), in nanoseconds.
std::optional<uint64_t> ParseProcStatCPU(const std::string& proc_stat, long ticks_per_second);
// MemTotal - MemFree - Inactive(file) from /proc/meminfo, in bytes.
std::optional<uint64_t> ParseMeminfoWorkingSet(const std::string& meminfo);

// The pods whose use is measured, as the kubelet knows them.
struct ContainerStatsRef {
  std::string name;
  std::string cgroup;  // "/kubes-ab12/pod<uid>/<container id>"
  TimePoint start_time{};
};
struct PodStatsRef {
  std::string namespace_;
  std::string name;
  std::string uid;
  std::string cgroup;  // "/kubes-ab12/pod<uid>"
  TimePoint start_time{};
  std::vector<ContainerStatsRef> containers;  // the running ones
};

class StatsCollector {
 public:
  static constexpr std::chrono::seconds kInterval{5};
  static constexpr std::chrono::seconds kWindow{15};

  explicit StatsCollector(std::unique_ptr<UsageReader> reader, const Clock& clock = RealClock::Get());

  // Reads the node and every cgroup of pods now, and forgets cgroups not among them.
  void Collect(const std::vector<PodStatsRef>& pods);

  // The Summary API document (stats/v1alpha1 Summary, CPU and memory only) for the node
  // and these pods, from the readings so far. usageNanoCores is left out where there is
  // no reading kWindow old yet; a pod or container never read is left out.
  nlohmann::json Summary(const std::string& node_name, const std::vector<PodStatsRef>& pods) const;

 private:
  struct Reading {
    TimePoint at;
    runtime::CgroupUsage usage;
  };
  using History = std::deque<Reading>;

  void Remember(History& h, const runtime::CgroupUsage& usage, TimePoint at);
  // {"cpu": {...}, "memory": {...}} of one history, or null when it is empty.
  nlohmann::json CpuAndMemory(const History& h) const;

  std::unique_ptr<UsageReader> reader_;
  const Clock& clock_;
  mutable std::mutex mu_;
  History node_;
  std::map<std::string, History> cgroups_;  // by cgroup path
};

}  // namespace kubes::kubelet
