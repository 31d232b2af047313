#include "controller/podautoscaler/normalize.h"

#include <algorithm>
#include <climits>
#include <cmath>

namespace kubes::controller::podautoscaler {
namespace {

// The old scale-up limit without spec.behavior: at most double, at least 4.
constexpr double kScaleUpLimitFactor = 2.0;
constexpr double kScaleUpLimitMinimum = 4.0;

int32_t IntOr(const Json& obj, const char* key, int32_t fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int32_t>() : fallback;
}

// rules (one of spec.behavior's) over the defaults: each field the user set wins.
ScalingRules WithDefaults(const Json& rules, ScalingRules defaults) {
  if (!rules.is_object()) return defaults;
  if (rules.contains("stabilizationWindowSeconds")) {
    defaults.stabilization_window_seconds =
        IntOr(rules, "stabilizationWindowSeconds", defaults.stabilization_window_seconds);
  }
  if (rules.contains("selectPolicy") && rules["selectPolicy"].is_string()) {
    defaults.select_policy = rules["selectPolicy"].get<std::string>();
  }
  if (rules.contains("policies") && rules["policies"].is_array()) {
    defaults.policies.clear();
    for (const auto& p : rules["policies"]) {
      if (!p.is_object()) continue;
      defaults.policies.push_back({p.value("type", ""), IntOr(p, "value", 0), IntOr(p, "periodSeconds", 0)});
    }
  }
  return defaults;
}

// Replicas added (or removed) by the events of the last period_seconds.
int32_t ReplicasChangePerPeriod(int32_t period_seconds, const std::vector<ScaleEvent>& events, TimePoint now) {
  TimePoint cutoff = now - std::chrono::seconds(period_seconds);
  int32_t replicas = 0;
  for (const auto& e : events) {
    if (e.timestamp > cutoff) replicas += e.replica_change;
  }
  return replicas;
}

int32_t LongestPolicyPeriod(const ScalingRules& rules) {
  int32_t longest = 0;
  for (const auto& p : rules.policies) longest = std::max(longest, p.period_seconds);
  return longest;
}

void MarkScaleEventsOutdated(std::vector<ScaleEvent>& events, int32_t longest_period, TimePoint now) {
  TimePoint cutoff = now - std::chrono::seconds(longest_period);
  for (auto& e : events) {
    if (e.timestamp < cutoff) e.outdated = true;
  }
}

}  // namespace

Behavior BehaviorFromSpec(const Json& behavior, std::chrono::seconds downscale_stabilization) {
  ScalingRules up{0, "Max", {{"Pods", 4, 15}, {"Percent", 100, 15}}};
  ScalingRules down{static_cast<int32_t>(downscale_stabilization.count()), "Max", {{"Percent", 100, 15}}};
  if (!behavior.is_object()) return {up, down};
  return {WithDefaults(behavior.value("scaleUp", Json()), up), WithDefaults(behavior.value("scaleDown", Json()), down)};
}

Limited ConvertDesiredReplicasWithRules(int32_t current, int32_t desired, int32_t min_replicas, int32_t max_replicas) {
  // A bogus CPU reading must not multiply the replicas at once: at most double.
  auto scale_up_limit =
      static_cast<int32_t>(std::max(kScaleUpLimitFactor * static_cast<double>(current), kScaleUpLimitMinimum));
  int32_t maximum = max_replicas;
  std::string reason = "TooManyReplicas";
  std::string message = "the desired replica count is more than the maximum replica count";
  if (max_replicas > scale_up_limit) {
    maximum = scale_up_limit;
    reason = "ScaleUpLimit";
    message = "the desired replica count is increasing faster than the maximum scale rate";
  }
  if (desired < min_replicas) {
    return {min_replicas, "TooFewReplicas", "the desired replica count is less than the minimum replica count"};
  }
  if (desired > maximum) return {maximum, reason, message};
  return {desired, "DesiredWithinRange", "the desired count is within the acceptable range"};
}

int32_t CalculateScaleUpLimitWithScalingRules(int32_t current, const std::vector<ScaleEvent>& up_events,
                                              const std::vector<ScaleEvent>& down_events, const ScalingRules& rules,
                                              TimePoint now) {
  if (rules.select_policy == "Disabled") return current;
  bool min_change = rules.select_policy == "Min";
  int32_t result = min_change ? INT32_MAX : INT32_MIN;
  for (const auto& p : rules.policies) {
    int32_t added = ReplicasChangePerPeriod(p.period_seconds, up_events, now);
    int32_t deleted = ReplicasChangePerPeriod(p.period_seconds, down_events, now);
    int32_t period_start = current - added + deleted;
    int32_t proposed = 0;
    if (p.type == "Pods") {
      proposed = period_start + p.value;
    } else if (p.type == "Percent") {
      // Rounded up: a small percentage of a few pods must still allow one more.
      proposed = static_cast<int32_t>(std::ceil(static_cast<double>(period_start) * (1 + p.value / 100.0)));
    }
    result = min_change ? std::min(result, proposed) : std::max(result, proposed);
  }
  return result;
}

int32_t CalculateScaleDownLimitWithBehaviors(int32_t current, const std::vector<ScaleEvent>& up_events,
                                             const std::vector<ScaleEvent>& down_events, const ScalingRules& rules,
                                             TimePoint now) {
  if (rules.select_policy == "Disabled") return current;
  bool min_change = rules.select_policy == "Min";
  int32_t result = min_change ? INT32_MIN : INT32_MAX;
  for (const auto& p : rules.policies) {
    int32_t added = ReplicasChangePerPeriod(p.period_seconds, up_events, now);
    int32_t deleted = ReplicasChangePerPeriod(p.period_seconds, down_events, now);
    int32_t period_start = current - added + deleted;
    int32_t proposed = 0;
    if (p.type == "Pods") {
      proposed = period_start - p.value;
    } else if (p.type == "Percent") {
      proposed = static_cast<int32_t>(static_cast<double>(period_start) * (1 - p.value / 100.0));
    }
    result = min_change ? std::max(result, proposed) : std::min(result, proposed);
  }
  return result;
}

ReplicaNormalizer::ReplicaNormalizer(std::chrono::seconds downscale_stabilization, const Clock& clock)
    : downscale_stabilization_(downscale_stabilization), clock_(clock) {}

void ReplicaNormalizer::RecordInitialRecommendation(const std::string& key, int32_t current) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& recs = recommendations_[key];
  if (recs.empty()) recs.push_back({current, clock_.Now()});
}

int32_t ReplicaNormalizer::StabilizeRecommendation(const std::string& key, int32_t desired) {
  std::lock_guard<std::mutex> lock(mu_);
  TimePoint now = clock_.Now();
  TimePoint cutoff = now - downscale_stabilization_;
  int32_t max_recommendation = desired;
  auto& recs = recommendations_[key];
  int old_index = -1;
  for (size_t i = 0; i < recs.size(); ++i) {
    if (recs[i].timestamp < cutoff) old_index = static_cast<int>(i);
    else max_recommendation = std::max(max_recommendation, recs[i].replicas);
  }
  // An entry older than the window is reused, so the list stays as long as the window.
  if (old_index >= 0) recs[old_index] = {desired, now};
  else recs.push_back({desired, now});
  return max_recommendation;
}

Normalized ReplicaNormalizer::NormalizeDesiredReplicas(const std::string& key, int32_t current, int32_t desired,
                                                       int32_t min_replicas, int32_t max_replicas) {
  Normalized n;
  int32_t stabilized = StabilizeRecommendation(key, desired);
  if (stabilized != desired) {
    n.able_reason = "ScaleDownStabilized";
    n.able_message = "recent recommendations were higher than current one, applying the highest recent recommendation";
  } else {
    n.able_reason = "ReadyForNewScale";
    n.able_message = "recommended size matches current size";
  }
  Limited l = ConvertDesiredReplicasWithRules(current, stabilized, min_replicas, max_replicas);
  n.replicas = l.replicas;
  n.limited = l.replicas != stabilized;
  n.limited_reason = l.reason;
  n.limited_message = l.message;
  return n;
}

Normalized ReplicaNormalizer::NormalizeDesiredReplicasWithBehaviors(const std::string& key, const Behavior& behavior,
                                                                    int32_t current, int32_t desired,
                                                                    int32_t min_replicas, int32_t max_replicas) {
  std::lock_guard<std::mutex> lock(mu_);
  TimePoint now = clock_.Now();
  Normalized n;

  // Stabilize: within the scale-up window take the lowest recommendation, within the
  // scale-down window the highest, and move from current only as far as both allow.
  TimePoint up_cutoff = now - std::chrono::seconds(behavior.scale_up.stabilization_window_seconds);
  TimePoint down_cutoff = now - std::chrono::seconds(behavior.scale_down.stabilization_window_seconds);
  int32_t up_recommendation = desired, down_recommendation = desired;
  auto& recs = recommendations_[key];
  int old_index = -1;
  for (size_t i = 0; i < recs.size(); ++i) {
    if (recs[i].timestamp > up_cutoff) up_recommendation = std::min(up_recommendation, recs[i].replicas);
    if (recs[i].timestamp > down_cutoff) down_recommendation = std::max(down_recommendation, recs[i].replicas);
    if (recs[i].timestamp < up_cutoff && recs[i].timestamp < down_cutoff) old_index = static_cast<int>(i);
  }
  int32_t stabilized = std::min(std::max(current, up_recommendation), down_recommendation);
  if (old_index >= 0) recs[old_index] = {desired, now};
  else recs.push_back({desired, now});
  if (stabilized != desired) {
    if (desired >= current) {
      n.able_reason = "ScaleUpStabilized";
      n.able_message = "recent recommendations were lower than current one, applying the lowest recent recommendation";
    } else {
      n.able_reason = "ScaleDownStabilized";
      n.able_message =
          "recent recommendations were higher than current one, applying the highest recent recommendation";
    }
  } else {
    n.able_reason = "ReadyForNewScale";
    n.able_message = "recommended size matches current size";
  }

  // Limit the rate by the policies, then by min/max replicas.
  const auto& up_events = scale_up_events_[key];
  const auto& down_events = scale_down_events_[key];
  n.replicas = stabilized;
  n.limited_reason = "DesiredWithinRange";
  n.limited_message = "the desired count is within the acceptable range";
  if (stabilized > current) {
    int32_t limit = std::max(
        CalculateScaleUpLimitWithScalingRules(current, up_events, down_events, behavior.scale_up, now), current);
    int32_t maximum = max_replicas;
    std::string reason = "TooManyReplicas", message = "the desired replica count is more than the maximum replica count";
    if (maximum > limit) {
      maximum = limit;
      reason = "ScaleUpLimit";
      message = "the desired replica count is increasing faster than the maximum scale rate";
    }
    if (stabilized > maximum) {
      n.replicas = maximum;
      n.limited_reason = reason;
      n.limited_message = message;
    }
  } else if (stabilized < current) {
    int32_t limit = std::min(
        CalculateScaleDownLimitWithBehaviors(current, up_events, down_events, behavior.scale_down, now), current);
    int32_t minimum = min_replicas;
    std::string reason = "TooFewReplicas", message = "the desired replica count is less than the minimum replica count";
    if (minimum < limit) {
      minimum = limit;
      reason = "ScaleDownLimit";
      message = "the desired replica count is decreasing faster than the maximum scale rate";
    }
    if (stabilized < minimum) {
      n.replicas = minimum;
      n.limited_reason = reason;
      n.limited_message = message;
    }
  }
  n.limited = n.replicas != stabilized;
  return n;
}

void ReplicaNormalizer::StoreScaleEvent(const std::string& key, const Behavior& behavior, int32_t previous,
                                        int32_t next) {
  std::lock_guard<std::mutex> lock(mu_);
  TimePoint now = clock_.Now();
  bool up = next > previous;
  auto& events = up ? scale_up_events_[key] : scale_down_events_[key];
  MarkScaleEventsOutdated(events, LongestPolicyPeriod(up ? behavior.scale_up : behavior.scale_down), now);
  ScaleEvent e{up ? next - previous : previous - next, now, false};
  for (auto& old : events) {
    if (old.outdated) {
      old = e;
      return;
    }
  }
  events.push_back(e);
}

void ReplicaNormalizer::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  recommendations_.erase(key);
  scale_up_events_.erase(key);
  scale_down_events_.erase(key);
}

}  // namespace kubes::controller::podautoscaler
