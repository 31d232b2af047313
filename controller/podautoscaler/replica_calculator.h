// ReplicaCalculator — how many replicas a resource metric asks for (upstream:
// pkg/controller/podautoscaler/replica_calculator.go, GetResourceReplicas and
// GetRawResourceReplicas, with groupPods, calculatePodRequests and the ratios of
// metrics/utilization.go).
//
// The rule: ratio = current use / target; when |1 - ratio| > tolerance (0.1), the
// desired count is ceil(ratio × ready pods). Utilization targets compare the pods'
// total use with their total requests (so every container needs a request for the
// resource); AverageValue targets compare the average use per pod.
//
// Pods are sorted first (GroupPods):
//  - ignored: being deleted, or Failed — left out entirely;
//  - unready: Pending; and for CPU, pods still starting: within the CPU
//    initialization period (5 min) a pod counts only when Ready and measured for a
//    whole window since it became Ready; after it, a pod that is not Ready and has
//    never been Ready since shortly after its start (the initial readiness delay, 30 s);
//  - missing: no metrics yet;
//  - ready: the rest.
// If some pods are unready or missing, the ratio is computed again assuming the
// cautious value for them — on a scale-up, 0% for missing and unready pods; on a
// scale-down, 100% of the request (or the target, when it is above 100%) for missing
// pods — and nothing changes if that flips the direction or lands within tolerance.
//
// The calculator takes the pods (the namespace's pods matching the target's selector)
// from its caller, and the time from its Clock.
//
// Thread-safety: as the MetricsClient it is given; the rest is pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "apimachinery/labels/selector.h"
#include "controller/podautoscaler/metrics_client.h"
#include "util/status.h"
#include "util/time.h"

namespace kubes::controller::podautoscaler {

struct CalculatorOptions {
  double tolerance = 0.1;                                       // --horizontal-pod-autoscaler-tolerance
  std::chrono::seconds cpu_initialization_period{300};          // --horizontal-pod-autoscaler-cpu-initialization-period
  std::chrono::seconds delay_of_initial_readiness_status{30};   // --horizontal-pod-autoscaler-initial-readiness-delay
};

struct PodGroups {
  int ready = 0;
  std::set<std::string> unready, missing, ignored;
};
PodGroups GroupPods(const std::vector<Json>& pods, const PodMetricsInfo& metrics, const std::string& resource,
                    const CalculatorOptions& options, TimePoint now);

// The pods' requests of resource in milli-units, by pod name (app containers and
// restartable init containers — sidecars; only `container` when it is not "").
// Error: "missing request for cpu in container app of Pod web-1".
Result<std::map<std::string, int64_t>> CalculatePodRequests(const std::vector<Json>& pods, const std::string& container,
                                                            const std::string& resource);

struct UtilizationRatio {
  double ratio = 0;
  int32_t utilization = 0;     // percent of the requests
  int64_t raw_average = 0;     // average use per pod, milli-units
};
// Error when no metric belongs to a pod with a request ("no metrics returned matched
// known pods").
Result<UtilizationRatio> GetResourceUtilizationRatio(const PodMetricsInfo& metrics,
                                                     const std::map<std::string, int64_t>& requests,
                                                     int32_t target_utilization);
// ratio and the average use per pod. REQUIRES: metrics not empty.
std::pair<double, int64_t> GetMetricUsageRatio(const PodMetricsInfo& metrics, int64_t target_usage);

struct ResourceReplicas {
  int32_t replicas = 0;
  int32_t utilization = 0;    // percent of request (utilization targets only)
  int64_t raw_usage = 0;      // average use per pod, milli-units
  TimePoint timestamp{};
};

class ReplicaCalculator {
 public:
  ReplicaCalculator(MetricsClient* metrics, CalculatorOptions options, const Clock& clock)
      : metrics_(metrics), options_(options), clock_(clock) {}

  // For a target average utilization (percent of the pods' requests).
  Result<ResourceReplicas> GetResourceReplicas(int32_t current_replicas, int32_t target_utilization,
                                               const std::string& resource, const std::string& ns,
                                               const labels::Selector& selector, const std::string& container,
                                               const std::vector<Json>& pods);
  // For a target average value per pod (milli-units).
  Result<ResourceReplicas> GetRawResourceReplicas(int32_t current_replicas, int64_t target_usage,
                                                  const std::string& resource, const std::string& ns,
                                                  const labels::Selector& selector, const std::string& container,
                                                  const std::vector<Json>& pods);

  // The arithmetic of the two above, once the metrics are read.
  Result<ResourceReplicas> CalcResourceReplicas(int32_t current_replicas, int32_t target_utilization,
                                                const std::string& resource, const std::string& container,
                                                const std::vector<Json>& pods, PodMetricsInfo metrics) const;
  Result<ResourceReplicas> CalcPlainMetricReplicas(int32_t current_replicas, int64_t target_usage,
                                                   const std::string& resource, const std::vector<Json>& pods,
                                                   PodMetricsInfo metrics) const;

 private:
  MetricsClient* metrics_;
  CalculatorOptions options_;
  const Clock& clock_;
};

}  // namespace kubes::controller::podautoscaler
