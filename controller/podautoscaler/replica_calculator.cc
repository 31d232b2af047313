#include "controller/podautoscaler/replica_calculator.h"

#include <algorithm>
#include <cmath>

#include "apimachinery/resource/quantity.h"

namespace kubes::controller::podautoscaler {
namespace {

std::string NameOf(const Json& pod) { return pod.value("metadata", Json::object()).value("name", ""); }

std::optional<TimePoint> TimeField(const Json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_string()) return std::nullopt;
  return ParseRFC3339(obj[key].get<std::string>());
}

// The Ready condition inside status (which must outlive the pointer), or nullptr.
const Json* ReadyCondition(const Json& status) {
  auto conditions = status.find("conditions");
  if (conditions == status.end() || !conditions->is_array()) return nullptr;
  for (const auto& c : *conditions) {
    if (c.is_object() && c.value("type", "") == "Ready") return &c;
  }
  return nullptr;
}

// Whether a measured pod still counts as not ready for CPU (see the header).
bool UnreadyForCPU(const Json& pod, const PodMetric& metric, const CalculatorOptions& o, TimePoint now) {
  const Json& status = pod.value("status", Json::object());
  const Json* ready = ReadyCondition(status);
  auto start = TimeField(status, "startTime");
  if (ready == nullptr || !start) return true;
  TimePoint transition = TimeField(*ready, "lastTransitionTime").value_or(TimePoint{});
  bool is_false = ready->value("status", "") == "False";
  if (*start + o.cpu_initialization_period > now) {
    // Starting: count it only once a whole window was measured since it became Ready.
    return is_false || metric.timestamp < transition + metric.window;
  }
  // Started long ago: leave it out only if it has not been Ready since its start.
  return is_false && *start + o.delay_of_initial_readiness_status > transition;
}

void RemoveMetricsForPods(PodMetricsInfo& metrics, const std::set<std::string>& pods) {
  for (const auto& p : pods) metrics.erase(p);
}

}  // namespace

PodGroups GroupPods(const std::vector<Json>& pods, const PodMetricsInfo& metrics, const std::string& resource,
                    const CalculatorOptions& options, TimePoint now) {
  PodGroups g;
  for (const Json& pod : pods) {
    std::string name = NameOf(pod);
    const Json& meta = pod.value("metadata", Json::object());
    std::string phase = pod.value("status", Json::object()).value("phase", "");
    bool deleting = meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null();
    if (deleting || phase == "Failed") {
      g.ignored.insert(name);
      continue;
    }
    if (phase == "Pending") {
      g.unready.insert(name);
      continue;
    }
    auto metric = metrics.find(name);
    if (metric == metrics.end()) {
      g.missing.insert(name);
      continue;
    }
    if (resource == "cpu" && UnreadyForCPU(pod, metric->second, options, now)) {
      g.unready.insert(name);
      continue;
    }
    ++g.ready;
  }
  return g;
}

Result<std::map<std::string, int64_t>> CalculatePodRequests(const std::vector<Json>& pods, const std::string& container,
                                                            const std::string& resource) {
  std::map<std::string, int64_t> requests;
  for (const Json& pod : pods) {
    Json spec = pod.value("spec", Json::object());
    std::vector<Json> containers;
    for (const auto& c : spec.value("containers", Json::array())) containers.push_back(c);
    for (const auto& c : spec.value("initContainers", Json::array())) {
      if (c.is_object() && c.value("restartPolicy", "") == "Always") containers.push_back(c);  // sidecars
    }
    int64_t sum = 0;
    for (const Json& c : containers) {
      if (!c.is_object()) continue;
      std::string name = c.value("name", "");
      if (!container.empty() && container != name) continue;
      Json req = c.value("resources", Json::object()).value("requests", Json::object());
      if (!req.is_object() || !req.contains(resource)) {
        return Invalid("missing request for " + resource + " in container " + name + " of Pod " + NameOf(pod));
      }
      sum += resource::QuantityMilliValue(req[resource]);
    }
    requests[NameOf(pod)] = sum;
  }
  return requests;
}

Result<UtilizationRatio> GetResourceUtilizationRatio(const PodMetricsInfo& metrics,
                                                     const std::map<std::string, int64_t>& requests,
                                                     int32_t target_utilization) {
  int64_t metrics_total = 0, requests_total = 0, entries = 0;
  for (const auto& [pod, metric] : metrics) {
    auto r = requests.find(pod);
    if (r == requests.end()) continue;  // metrics of pods we do not know
    metrics_total += metric.value;
    requests_total += r->second;
    ++entries;
  }
  // Requests and metrics about entirely different pods.
  if (requests_total == 0) return Invalid("no metrics returned matched known pods");
  UtilizationRatio out;
  out.utilization = static_cast<int32_t>(metrics_total * 100 / requests_total);
  out.ratio = static_cast<double>(out.utilization) / static_cast<double>(target_utilization);
  out.raw_average = metrics_total / entries;
  return out;
}

std::pair<double, int64_t> GetMetricUsageRatio(const PodMetricsInfo& metrics, int64_t target_usage) {
  int64_t total = 0;
  for (const auto& [pod, metric] : metrics) total += metric.value;
  int64_t current = total / static_cast<int64_t>(metrics.size());
  return {static_cast<double>(current) / static_cast<double>(target_usage), current};
}

Result<ResourceReplicas> ReplicaCalculator::CalcResourceReplicas(int32_t current_replicas, int32_t target_utilization,
                                                                 const std::string& resource,
                                                                 const std::string& container,
                                                                 const std::vector<Json>& pods,
                                                                 PodMetricsInfo metrics) const {
  if (pods.empty()) return Invalid("no pods returned by selector while calculating replica count");
  PodGroups g = GroupPods(pods, metrics, resource, options_, clock_.Now());
  RemoveMetricsForPods(metrics, g.ignored);
  RemoveMetricsForPods(metrics, g.unready);
  auto requests = CalculatePodRequests(pods, container, resource);
  if (!requests.ok()) return requests.status();
  if (metrics.empty()) return Invalid("did not receive metrics for targeted pods (pods might be unready)");
  auto first = GetResourceUtilizationRatio(metrics, *requests, target_utilization);
  if (!first.ok()) return first.status();
  double ratio = first->ratio;
  ResourceReplicas out{current_replicas, first->utilization, first->raw_average, {}};

  bool scale_up_with_unready = !g.unready.empty() && ratio > 1.0;
  if (!scale_up_with_unready && g.missing.empty()) {
    if (std::abs(1.0 - ratio) <= options_.tolerance) return out;  // too small a change
    out.replicas = static_cast<int32_t>(std::ceil(ratio * g.ready));
    return out;
  }
  // Assume the cautious value for the pods without a usable figure, and compute again.
  if (!g.missing.empty()) {
    if (ratio < 1.0) {
      int64_t fallback = std::max<int64_t>(100, target_utilization);
      for (const auto& p : g.missing) metrics[p] = PodMetric{{}, {}, (*requests)[p] * fallback / 100};
    } else if (ratio > 1.0) {
      for (const auto& p : g.missing) metrics[p] = PodMetric{};
    }
  }
  if (scale_up_with_unready) {
    for (const auto& p : g.unready) metrics[p] = PodMetric{};
  }
  auto second = GetResourceUtilizationRatio(metrics, *requests, target_utilization);
  if (!second.ok()) return second.status();
  double new_ratio = second->ratio;
  // Within tolerance, or the assumption turned the direction around: no change.
  if (std::abs(1.0 - new_ratio) <= options_.tolerance || (ratio < 1.0 && new_ratio > 1.0) ||
      (ratio > 1.0 && new_ratio < 1.0)) {
    return out;
  }
  auto replicas = static_cast<int32_t>(std::ceil(new_ratio * static_cast<double>(metrics.size())));
  if ((new_ratio < 1.0 && replicas > current_replicas) || (new_ratio > 1.0 && replicas < current_replicas)) {
    return out;
  }
  out.replicas = replicas;
  return out;
}

Result<ResourceReplicas> ReplicaCalculator::CalcPlainMetricReplicas(int32_t current_replicas, int64_t target_usage,
                                                                    const std::string& resource,
                                                                    const std::vector<Json>& pods,
                                                                    PodMetricsInfo metrics) const {
  if (pods.empty()) return Invalid("no pods returned by selector while calculating replica count");
  PodGroups g = GroupPods(pods, metrics, resource, options_, clock_.Now());
  RemoveMetricsForPods(metrics, g.ignored);
  RemoveMetricsForPods(metrics, g.unready);
  if (metrics.empty()) return Invalid("did not receive metrics for targeted pods (pods might be unready)");
  auto [ratio, usage] = GetMetricUsageRatio(metrics, target_usage);
  ResourceReplicas out{current_replicas, 0, usage, {}};

  bool scale_up_with_unready = !g.unready.empty() && ratio > 1.0;
  if (!scale_up_with_unready && g.missing.empty()) {
    if (std::abs(1.0 - ratio) <= options_.tolerance) return out;
    out.replicas = static_cast<int32_t>(std::ceil(ratio * g.ready));
    return out;
  }
  if (!g.missing.empty()) {
    // On a scale-down a missing pod is assumed exactly at target; on a scale-up, idle.
    for (const auto& p : g.missing) metrics[p] = PodMetric{{}, {}, ratio < 1.0 ? target_usage : 0};
  }
  if (scale_up_with_unready) {
    for (const auto& p : g.unready) metrics[p] = PodMetric{};
  }
  double new_ratio = GetMetricUsageRatio(metrics, target_usage).first;
  if (std::abs(1.0 - new_ratio) <= options_.tolerance || (ratio < 1.0 && new_ratio > 1.0) ||
      (ratio > 1.0 && new_ratio < 1.0)) {
    return out;
  }
  auto replicas = static_cast<int32_t>(std::ceil(new_ratio * static_cast<double>(metrics.size())));
  if ((new_ratio < 1.0 && replicas > current_replicas) || (new_ratio > 1.0 && replicas < current_replicas)) {
    return out;
  }
  out.replicas = replicas;
  return out;
}

Result<ResourceReplicas> ReplicaCalculator::GetResourceReplicas(int32_t current_replicas, int32_t target_utilization,
                                                                const std::string& resource, const std::string& ns,
                                                                const labels::Selector& selector,
                                                                const std::string& container,
                                                                const std::vector<Json>& pods) {
  auto m = metrics_->GetResourceMetric(resource, ns, selector, container);
  if (!m.ok()) return Internal("unable to get metrics for resource " + resource + ": " + m.status().message());
  auto r = CalcResourceReplicas(current_replicas, target_utilization, resource, container, pods, m->metrics);
  if (!r.ok()) return r.status();
  r->timestamp = m->timestamp;
  return r;
}

Result<ResourceReplicas> ReplicaCalculator::GetRawResourceReplicas(int32_t current_replicas, int64_t target_usage,
                                                                   const std::string& resource, const std::string& ns,
                                                                   const labels::Selector& selector,
                                                                   const std::string& container,
                                                                   const std::vector<Json>& pods) {
  auto m = metrics_->GetResourceMetric(resource, ns, selector, container);
  if (!m.ok()) return Internal("unable to get metrics for resource " + resource + ": " + m.status().message());
  auto r = CalcPlainMetricReplicas(current_replicas, target_usage, resource, pods, m->metrics);
  if (!r.ok()) return r.status();
  r->timestamp = m->timestamp;
  return r;
}

}  // namespace kubes::controller::podautoscaler
