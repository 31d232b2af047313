// HorizontalController — the HorizontalPodAutoscaler: keeps a workload's replica count
// following the CPU or memory use of its pods (upstream:
// pkg/controller/podautoscaler/horizontal.go).
//
// Every sync period (15 s, --horizontal-pod-autoscaler-sync-period) each HPA is synced
// (SyncHPA, upstream reconcileAutoscaler):
//  1. read the target's scale subresource (spec.scaleTargetRef → /scale of a Deployment,
//     ReplicaSet, StatefulSet, or any resource with a scale subresource); its
//     status.selector finds the pods;
//  2. if the target is at 0 replicas, autoscaling is off (ScalingActive=False,
//     ScalingDisabled); outside min/max it is brought back inside;
//  3. otherwise every metric proposes a count (ReplicaCalculator, from metrics.k8s.io
//     read through the API) and the largest wins;
//  4. the proposal is stabilized and rate-limited (ReplicaNormalizer: spec.behavior, or
//     the older rules without it) and kept within min/max;
//  5. if it differs from the current count, the scale subresource is written and a
//     SuccessfulRescale event says why ("New size: 4; reason: cpu resource utilization
//     (percentage of request) above target");
//  6. status: currentReplicas, desiredReplicas, currentMetrics, lastScaleTime, and the
//     conditions AbleToScale, ScalingActive and ScalingLimited with upstream's reasons
//     and messages.
// Resource and ContainerResource metrics are computed (Utilization and AverageValue
// targets); Pods, Object and External metrics need the custom and external metrics APIs,
// which kubes does not serve: they fail with a condition saying so.
//
// autoscaling/v1 objects (what `kubectl autoscale` writes) are stored as v2 by the
// apiserver (apiserver/registry/autoscaling_conversion.h): the controller sees v2 only.
//
// Thread-safety: Run owns its threads; construct, Run (blocks), stop via the flag.
// SyncHPA may be called directly (tests) while Run is not running.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "client/client.h"
#include "client/informer.h"
#include "client/record.h"
#include "client/workqueue.h"
#include "controller/podautoscaler/metrics_client.h"
#include "controller/podautoscaler/normalize.h"
#include "controller/podautoscaler/replica_calculator.h"
#include "util/time.h"

namespace kubes::controller::podautoscaler {

// autoscaling/v2 HorizontalPodAutoscalers (every HPA, those written as v1 too).
inline const client::Resource kHorizontalPodAutoscalers{"autoscaling", "v2", "horizontalpodautoscalers", true,
                                                        "HorizontalPodAutoscaler"};

struct HorizontalOptions {
  std::chrono::seconds sync_period{15};                // --horizontal-pod-autoscaler-sync-period
  std::chrono::seconds downscale_stabilization{300};   // --horizontal-pod-autoscaler-downscale-stabilization
  CalculatorOptions calculator;
};

class HorizontalController {
 public:
  // hpas and pods: informers over all namespaces, run by the caller. metrics: where pod
  // metrics come from (RestMetricsClient in kube-controller-manager).
  HorizontalController(client::Client* c, client::Informer& hpas, client::Informer& pods,
                       std::unique_ptr<MetricsClient> metrics, HorizontalOptions options,
                       const Clock& clock = RealClock::Get());
  void Run(const std::atomic<bool>& stop);

  // key: "namespace/name".
  Status SyncHPA(const std::string& key);

 private:
  struct Autoscaler;  // one HPA being reconciled (horizontal.cc)

  Status ReconcileAutoscaler(Autoscaler& a);
  // The target's scale subresource, or the error (recorded on the HPA).
  Result<Json> GetScale(Autoscaler& a, client::Resource* target);
  // Steps 3 of the header: the largest proposal of the metrics, or -1 with the error.
  struct MetricsProposal {
    int32_t replicas = 0;
    std::string metric;
    Json statuses = Json::array();
    Status error = Status::OK();
  };
  MetricsProposal ComputeReplicasForMetrics(Autoscaler& a, const Json& scale);
  Result<int32_t> ComputeReplicasForMetric(Autoscaler& a, const Json& spec, int32_t spec_replicas,
                                           const labels::Selector& selector, const std::vector<Json>& pods,
                                           Json& status, std::string& metric_name);
  Result<labels::Selector> ValidateAndParseSelector(Autoscaler& a, const std::string& selector,
                                                    std::vector<Json>& pods);
  // The resource a scaleTargetRef names (discovery, cached for a while).
  Result<client::Resource> ResourceFor(const std::string& group, const std::string& kind);
  Status UpdateStatusIfNeeded(const Autoscaler& a);

  client::Client* client_;
  client::Informer& hpas_;
  client::Informer& pods_;
  std::unique_ptr<MetricsClient> metrics_;
  HorizontalOptions options_;
  const Clock& clock_;
  ReplicaCalculator calculator_;
  ReplicaNormalizer normalizer_;
  client::WorkQueue queue_;
  client::EventRecorder recorder_;

  std::mutex mu_;
  // The pod selector each HPA had at its last sync, to spot two HPAs on the same pods.
  std::map<std::string, labels::Selector> selectors_;
  // Discovery, for scaleTargetRef kinds: "group/Kind" → resource.
  std::map<std::string, client::Resource> kinds_;
  TimePoint kinds_fetched_{};
};

}  // namespace kubes::controller::podautoscaler
