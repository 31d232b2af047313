#include "kubelet/pod_cgroups.h"

#include <algorithm>

#include "scheduler/framework/types.h"

namespace kubes::kubelet {
namespace {

std::string QOSClassOf(const Json& pod) {
  auto status = pod.find("status");
  if (status == pod.end() || !status->is_object()) return "BestEffort";
  return status->value("qosClass", "BestEffort");
}

// Whether every container (init containers too) declares a limit for `resource`.
bool AllLimit(const Json& pod, const char* resource) {
  const Json& spec = pod.contains("spec") ? pod["spec"] : Json::object();
  for (const char* list : {"initContainers", "containers"}) {
    for (const auto& c : spec.value(list, Json::array())) {
      const Json& limits = c.value("resources", Json::object()).value("limits", Json::object());
      if (!limits.is_object() || !limits.contains(resource)) return false;
    }
  }
  return true;
}

}  // namespace

uint64_t MilliCPUToShares(int64_t milli_cpu) {
  if (milli_cpu <= 0) return kMinShares;
  uint64_t shares = static_cast<uint64_t>(milli_cpu) * 1024 / 1000;
  return std::clamp(shares, kMinShares, kMaxShares);
}

int64_t MilliCPUToQuota(int64_t milli_cpu, int64_t period_us) {
  if (milli_cpu <= 0) return 0;
  return std::max(milli_cpu * period_us / 1000, kMinQuotaUs);
}

std::string QOSCgroup(const std::string& root, const std::string& qos_class) {
  if (qos_class == "Burstable") return root + "/burstable";
  if (qos_class == "BestEffort") return root + "/besteffort";
  return root;
}

std::string PodCgroupPath(const std::string& root, const Json& pod) {
  std::string uid = pod["metadata"].value("uid", "");
  return QOSCgroup(root, QOSClassOf(pod)) + "/pod" + uid;
}

std::vector<std::string> PodCgroupCandidates(const std::string& root, const std::string& uid) {
  std::vector<std::string> out;
  for (const char* qos : {"Guaranteed", "Burstable", "BestEffort"}) out.push_back(QOSCgroup(root, qos) + "/pod" + uid);
  return out;
}

runtime::CgroupResources PodCgroupResources(const Json& pod) {
  runtime::CgroupResources r;
  std::string qos = QOSClassOf(pod);
  if (qos == "BestEffort") {
    r.cpu_shares = kMinShares;
    return r;
  }
  scheduler::Resource requests = scheduler::PodRequests(pod), limits = scheduler::PodLimits(pod);
  r.cpu_shares = MilliCPUToShares(requests.milli_cpu);
  r.cpu_period_us = kCPUPeriodUs;
  if (qos == "Guaranteed" || AllLimit(pod, "cpu")) r.cpu_quota_us = MilliCPUToQuota(limits.milli_cpu, kCPUPeriodUs);
  if (qos == "Guaranteed" || AllLimit(pod, "memory")) r.memory_limit = limits.memory;
  return r;
}

runtime::CgroupResources BurstableCgroupResources(const std::vector<const Json*>& pods) {
  int64_t milli = 0;
  for (const Json* pod : pods) {
    if (QOSClassOf(*pod) == "Burstable") milli += scheduler::PodRequests(*pod).milli_cpu;
  }
  runtime::CgroupResources r;
  r.cpu_shares = MilliCPUToShares(milli);
  return r;
}

}  // namespace kubes::kubelet
