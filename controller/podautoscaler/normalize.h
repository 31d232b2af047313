// From the replica count the metrics ask for to the one the autoscaler sets: the
// stabilization window, the scaling policies of spec.behavior, and min/max replicas
// (upstream: pkg/controller/podautoscaler/horizontal.go — normalizeDesiredReplicas,
// normalizeDesiredReplicasWithBehaviors, stabilizeRecommendation[WithBehaviors],
// convertDesiredReplicasWithBehaviorRate, calculateScale{Up,Down}Limit…, storeScaleEvent).
//
// Two memories per HPA, both kept in the controller only (a restart forgets them, as
// upstream's kube-controller-manager does):
//  - recommendations: every replica count the metrics asked for, with its time. A
//    scale-down takes the highest recommendation of the last stabilization window
//    (300 s by default), so a short dip does not remove pods that a moment later would
//    be wanted again; a scale-up takes the lowest of its window (0 s by default).
//  - scale events: every change the autoscaler made, with its time. A policy ("at most
//    4 Pods per 15 s", "at most 100% per 15 s") limits the change against the replica
//    count at the start of its period; selectPolicy picks the policy allowing the most
//    change (Max), the least (Min), or none (Disabled).
// Without spec.behavior, upstream's older rules apply: the downscale window, and a
// scale-up of at most max(2 × current, 4).
//
// Every function takes the time from the Clock given at construction, so tests drive
// windows and periods with a fake clock.
//
// Thread-safety: ReplicaNormalizer is internally locked.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/time.h"

namespace kubes::controller::podautoscaler {

using Json = nlohmann::json;

// HPAScalingRules with upstream's defaults filled in.
struct ScalingPolicy {
  std::string type;  // "Pods" or "Percent"
  int32_t value = 0;
  int32_t period_seconds = 0;
};
struct ScalingRules {
  int32_t stabilization_window_seconds = 0;
  std::string select_policy = "Max";  // Max, Min or Disabled
  std::vector<ScalingPolicy> policies;
};
struct Behavior {
  ScalingRules scale_up;
  ScalingRules scale_down;
};

// spec.behavior with the defaults upstream's API fills in (scaleUp: no window, at most
// 4 Pods or 100% per 15 s, whichever is more; scaleDown: the controller's window, at
// most 100% per 15 s). A missing field takes its default; a malformed one too.
Behavior BehaviorFromSpec(const Json& behavior, std::chrono::seconds downscale_stabilization);

// One change made by the autoscaler.
struct ScaleEvent {
  int32_t replica_change = 0;
  TimePoint timestamp{};
  bool outdated = false;
};

// The result of normalizing: the replica count to set, and what the AbleToScale and
// ScalingLimited conditions should say about it.
struct Normalized {
  int32_t replicas = 0;
  std::string able_reason, able_message;  // AbleToScale=True
  bool limited = false;                   // ScalingLimited True/False
  std::string limited_reason, limited_message;
};

// min/max replicas and the old fixed scale-up limit (no behavior): the count, the
// ScalingLimited reason and message.
struct Limited {
  int32_t replicas;
  std::string reason, message;
};
Limited ConvertDesiredReplicasWithRules(int32_t current, int32_t desired, int32_t min_replicas, int32_t max_replicas);

// The most (fewest) replicas the scale-up (scale-down) policies allow now.
int32_t CalculateScaleUpLimitWithScalingRules(int32_t current, const std::vector<ScaleEvent>& up_events,
                                              const std::vector<ScaleEvent>& down_events, const ScalingRules& rules,
                                              TimePoint now);
int32_t CalculateScaleDownLimitWithBehaviors(int32_t current, const std::vector<ScaleEvent>& up_events,
                                             const std::vector<ScaleEvent>& down_events, const ScalingRules& rules,
                                             TimePoint now);

class ReplicaNormalizer {
 public:
  ReplicaNormalizer(std::chrono::seconds downscale_stabilization, const Clock& clock);

  // The first sync of an HPA remembers its target's size as a recommendation, so a
  // restarted controller does not scale down at once.
  void RecordInitialRecommendation(const std::string& key, int32_t current);
  // Without spec.behavior.
  Normalized NormalizeDesiredReplicas(const std::string& key, int32_t current, int32_t desired, int32_t min_replicas,
                                      int32_t max_replicas);
  // With spec.behavior (see BehaviorFromSpec).
  Normalized NormalizeDesiredReplicasWithBehaviors(const std::string& key, const Behavior& behavior, int32_t current,
                                                   int32_t desired, int32_t min_replicas, int32_t max_replicas);
  // Remembers a change the autoscaler made (only with spec.behavior: the policies read
  // them), reusing the slot of an event older than the longest policy period.
  void StoreScaleEvent(const std::string& key, const Behavior& behavior, int32_t previous, int32_t next);
  // An HPA that is gone.
  void Forget(const std::string& key);

 private:
  struct Recommendation {
    int32_t replicas;
    TimePoint timestamp;
  };
  int32_t StabilizeRecommendation(const std::string& key, int32_t desired);

  std::chrono::seconds downscale_stabilization_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, std::vector<Recommendation>> recommendations_;
  std::map<std::string, std::vector<ScaleEvent>> scale_up_events_;
  std::map<std::string, std::vector<ScaleEvent>> scale_down_events_;
};

}  // namespace kubes::controller::podautoscaler
