#include "kubelet/stats.h"

#include <unistd.h>

#include <sstream>
#include <thread>

#include "kubelet/kubelet.h"
#include "util/files.h"

namespace kubes::kubelet {
namespace {

using Json = nlohmann::json;

// A reading counts as "kWindow before" the newest one when it is at least this old:
// half an interval of slack for a collection that ran a little late.
constexpr auto kMinWindow = std::chrono::milliseconds(StatsCollector::kWindow) -
                            std::chrono::milliseconds(StatsCollector::kInterval) / 2;
// Readings older than this (before the newest) can no longer be the start of a window.
constexpr auto kKeep = StatsCollector::kWindow + 2 * StatsCollector::kInterval;

class MachineUsageReader : public UsageReader {
 public:
  std::optional<runtime::CgroupUsage> Cgroup(const std::string& path) override { return runtime::ReadCgroupUsage(path); }
  std::optional<runtime::CgroupUsage> Node() override {
    auto cpu = ParseProcStatCPU(ReadFileOrEmpty("/proc/stat"), sysconf(_SC_CLK_TCK));
    auto memory = ParseMeminfoWorkingSet(ReadFileOrEmpty("/proc/meminfo"));
    if (!cpu || !memory) return std::nullopt;
    return runtime::CgroupUsage{*cpu, *memory};
  }
};

}  // namespace

std::unique_ptr<UsageReader> NewMachineUsageReader() { return std::make_unique<MachineUsageReader>(); }

std::optional<uint64_t> ParseProcStatCPU(const std::string& proc_stat, long ticks_per_second) {
  std::istringstream in(proc_stat);
  std::string label;
  if (!(in >> label) || label != "cpu" || ticks_per_second <= 0) return std::nullopt;
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  uint64_t v[8] = {0};
  for (int i = 0; i < 8; ++i) {
    if (!(in >> v[i])) {
      if (i < 4) return std::nullopt;  // older kernels stop early; four fields always exist
      break;
    }
  }
  uint64_t busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  return busy * (1000000000ULL / static_cast<uint64_t>(ticks_per_second));
}

std::optional<uint64_t> ParseMeminfoWorkingSet(const std::string& meminfo) {
  std::optional<uint64_t> total, free, inactive_file;
  std::istringstream in(meminfo);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string key;
    uint64_t kib = 0;
    if (!(fields >> key >> kib)) continue;
    if (key == "MemTotal:") total = kib * 1024;
    else if (key == "MemFree:") free = kib * 1024;
    else if (key == "Inactive(file):") inactive_file = kib * 1024;
  }
  if (!total || !free) return std::nullopt;
  uint64_t usage = *total > *free ? *total - *free : 0;
  uint64_t inactive = inactive_file.value_or(0);
  return usage > inactive ? usage - inactive : 0;
}

StatsCollector::StatsCollector(std::unique_ptr<UsageReader> reader, const Clock& clock)
    : reader_(std::move(reader)), clock_(clock) {}

void StatsCollector::Remember(History& h, const runtime::CgroupUsage& usage, TimePoint at) {
  h.push_back({at, usage});
  while (h.size() > 1 && at - h.front().at > kKeep) h.pop_front();
}

void StatsCollector::Collect(const std::vector<PodStatsRef>& pods) {
  // Read outside the lock: the files are slow next to the bookkeeping.
  TimePoint now = clock_.Now();
  auto node = reader_->Node();
  std::map<std::string, runtime::CgroupUsage> read;
  for (const auto& pod : pods) {
    if (auto u = reader_->Cgroup(pod.cgroup)) read[pod.cgroup] = *u;
    for (const auto& c : pod.containers) {
      if (auto u = reader_->Cgroup(c.cgroup)) read[c.cgroup] = *u;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (node) Remember(node_, *node, now);
  // Cgroups that are gone (pods deleted, containers restarted) are forgotten.
  for (auto it = cgroups_.begin(); it != cgroups_.end();) {
    it = read.count(it->first) ? std::next(it) : cgroups_.erase(it);
  }
  for (const auto& [path, usage] : read) Remember(cgroups_[path], usage, now);
}

Json StatsCollector::CpuAndMemory(const History& h) const {
  if (h.empty()) return nullptr;
  const Reading& newest = h.back();
  std::string time = FormatRFC3339(newest.at);
  Json cpu = {{"time", time}, {"usageCoreNanoSeconds", newest.usage.cpu_usage_ns}};
  // The newest reading at least one window older than the newest.
  for (auto it = h.rbegin(); it != h.rend(); ++it) {
    auto elapsed = newest.at - it->at;
    if (elapsed < kMinWindow) continue;
    if (newest.usage.cpu_usage_ns >= it->usage.cpu_usage_ns) {
      double seconds = std::chrono::duration<double>(elapsed).count();
      double used = static_cast<double>(newest.usage.cpu_usage_ns - it->usage.cpu_usage_ns);
      cpu["usageNanoCores"] = static_cast<uint64_t>(used / seconds);
    }
    break;
  }
  return {{"cpu", cpu}, {"memory", {{"time", time}, {"workingSetBytes", newest.usage.memory_working_set_bytes}}}};
}

Json StatsCollector::Summary(const std::string& node_name, const std::vector<PodStatsRef>& pods) const {
  std::lock_guard<std::mutex> lock(mu_);
  Json node = {{"nodeName", node_name}};
  Json node_stats = CpuAndMemory(node_);
  if (!node_stats.is_null()) node.update(node_stats);
  Json items = Json::array();
  for (const auto& pod : pods) {
    auto p = cgroups_.find(pod.cgroup);
    if (p == cgroups_.end()) continue;
    Json containers = Json::array();
    for (const auto& c : pod.containers) {
      auto it = cgroups_.find(c.cgroup);
      if (it == cgroups_.end()) continue;
      Json entry = {{"name", c.name}, {"startTime", FormatRFC3339(c.start_time)}};
      entry.update(CpuAndMemory(it->second));
      containers.push_back(std::move(entry));
    }
    Json entry = {{"podRef", {{"name", pod.name}, {"namespace", pod.namespace_}, {"uid", pod.uid}}},
                  {"startTime", FormatRFC3339(pod.start_time)},
                  {"containers", containers}};
    entry.update(CpuAndMemory(p->second));
    items.push_back(std::move(entry));
  }
  return {{"node", node}, {"pods", items}};
}

// ---- the kubelet's side: which cgroups to read, the collection loop, the endpoint ----

std::vector<PodStatsRef> Kubelet::StatsPods() const {
  std::vector<PodStatsRef> out;
  // The informer's shared objects (no copies) and each pod's own containers (the
  // kubelet's index): with hundreds of pods, listing and copying everything every 5 s
  // was most of this loop's cost.
  for (const auto& object : pods_.Snapshot()) {
    const Json& pod = *object;
    const Json& meta = pod["metadata"];
    std::string uid = meta.value("uid", "");
    // The running instance of each container (the newest attempt).
    std::map<std::string, runtime::ContainerStatus> running;
    for (const auto& id : ContainerIDsOf(uid)) {
      auto c = runtime_->Inspect(id);
      if (!c.ok() || c->state != runtime::ContainerState::kRunning) continue;
      auto& slot = running[c->labels.container_name];
      if (slot.id.empty() || c->labels.attempt > slot.labels.attempt) slot = std::move(c).value();
    }
    PodStatsRef ref{meta.value("namespace", ""), meta.value("name", ""), uid, "", {}, {}};
    ref.cgroup = PodCgroup(pod);
    static const Json kNoStatus = Json::object();
    auto status = pod.find("status");
    ref.start_time = ParseRFC3339((status != pod.end() ? *status : kNoStatus).value("startTime", "")).value_or(TimePoint{});
    for (const auto& [name, c] : running) ref.containers.push_back({name, ref.cgroup + "/" + c.id, c.started_at});
    if (!ref.containers.empty()) out.push_back(std::move(ref));
  }
  return out;
}

void Kubelet::StatsLoop(const std::atomic<bool>& stop) {
  while (!stop) {
    std::vector<PodStatsRef> pods = StatsPods();
    stats_->Collect(pods);
    EnforceEviction(pods);
    // Sleep in small steps so that stopping is quick.
    for (auto slept = std::chrono::milliseconds(0); slept < StatsCollector::kInterval && !stop;
         slept += std::chrono::milliseconds(100)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

apiserver::Response Kubelet::ServeStatsSummary(const apiserver::Request& req) {
  apiserver::Response r;
  if (req.method != "GET") {
    r.code = 405;
    r.content_type = "text/plain";
    r.body = "405 method not allowed";
    return r;
  }
  r.body = stats_->Summary(options_.node_name, StatsPods()).dump();
  return r;
}

}  // namespace kubes::kubelet
