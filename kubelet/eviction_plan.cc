#include <algorithm>
#include <sstream>

#include "apimachinery/resource/quantity.h"
#include "kubelet/eviction.h"

namespace kubes::kubelet {
namespace {

int64_t MemoryRequest(const Json& container) {
  return resource::QuantityValue(
      container.value("resources", Json::object()).value("requests", Json::object()).value("memory", Json()));
}

int64_t PodMemoryRequest(const Json& pod) {
  int64_t sum = 0;
  for (const auto& c : pod.value("spec", Json::object()).value("containers", Json::array())) sum += MemoryRequest(c);
  return sum;
}

int32_t Priority(const Json& pod) { return pod.value("spec", Json::object()).value("priority", 0); }

}  // namespace

Result<MemoryThreshold> ParseEvictionHard(const std::string& flag) {
  MemoryThreshold out;
  std::stringstream in(flag);
  std::string item;
  bool memory_seen = false;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    size_t lt = item.find('<');
    if (lt == std::string::npos) return Invalid("eviction threshold \"" + item + "\" is not SIGNAL<QUANTITY");
    std::string signal = item.substr(0, lt), value = item.substr(lt + 1);
    if (signal == "nodefs.available" || signal == "nodefs.inodesFree" || signal == "imagefs.available" ||
        signal == "imagefs.inodesFree" || signal == "pid.available") {
      continue;  // upstream signals kubes does not act on
    }
    if (signal != "memory.available") return Invalid("unsupported eviction signal " + signal);
    memory_seen = true;
    out.quantity = value;
    if (!value.empty() && value.back() == '%') {
      char* end = nullptr;
      std::string number = value.substr(0, value.size() - 1);
      out.percentage = std::strtod(number.c_str(), &end);
      if (number.empty() || *end != '\0' || out.percentage < 0 || out.percentage > 100) {
        return Invalid("eviction percentage \"" + value + "\" must be between 0% and 100%");
      }
    } else {
      auto bytes = resource::QuantityValue(std::string_view(value));
      if (!bytes || *bytes < 0) return Invalid("eviction threshold quantity \"" + value + "\" is not a quantity");
      out.bytes = *bytes;
    }
  }
  if (!memory_seen) out = {};  // no memory threshold: never evict for memory
  return out;
}

std::string FormatBytes(int64_t bytes) {
  static const char* kSuffixes[] = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};
  if (bytes == 0) return "0";
  int shift = 60;
  for (const char* suffix : kSuffixes) {
    int64_t unit = int64_t{1} << shift;
    if (bytes % unit == 0) return std::to_string(bytes / unit) + suffix;
    shift -= 10;
  }
  return std::to_string(bytes);
}

EvictionPlan PlanMemoryEviction(const MemoryThreshold& threshold, int64_t available, int64_t capacity,
                                const std::vector<PodMemoryUse>& pods) {
  EvictionPlan plan;
  int64_t limit = threshold.Bytes(capacity);
  if (limit <= 0 || available >= limit) return plan;
  plan.pressure = true;
  if (pods.empty()) return plan;
  std::vector<size_t> order(pods.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto exceeds = [&](size_t i) { return pods[i].working_set > PodMemoryRequest(pods[i].pod); };
  auto above = [&](size_t i) { return pods[i].working_set - PodMemoryRequest(pods[i].pod); };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (exceeds(a) != exceeds(b)) return exceeds(a);
    if (Priority(pods[a].pod) != Priority(pods[b].pod)) return Priority(pods[a].pod) < Priority(pods[b].pod);
    return above(a) > above(b);
  });
  plan.victim = order.front();
  const PodMemoryUse& victim = pods[*plan.victim];
  std::string msg = "The node was low on resource: memory. Threshold quantity: " + threshold.quantity +
                    ", available: " + FormatBytes(std::max<int64_t>(available, 0)) + ". ";
  for (const auto& c : victim.pod.value("spec", Json::object()).value("containers", Json::array())) {
    std::string name = c.value("name", "");
    auto it = victim.containers.find(name);
    if (it == victim.containers.end()) continue;
    int64_t request = MemoryRequest(c);
    if (it->second > request) {
      msg += "Container " + name + " was using " + FormatBytes(it->second) + ", request is " + FormatBytes(request) +
             ", has larger consumption of memory. ";
    }
  }
  plan.message = msg;
  return plan;
}

}  // namespace kubes::kubelet
