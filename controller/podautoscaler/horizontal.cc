#include "controller/podautoscaler/horizontal.h"

#include <algorithm>
#include <thread>

#include "apimachinery/resource/quantity.h"
#include "controller/discovery.h"
#include "controller/worker.h"
#include "util/strings.h"

namespace kubes::controller::podautoscaler {

// One HPA being reconciled: as stored, and in v2's shape while it is worked on.
struct HorizontalController::Autoscaler {
  std::string key, ns, name;
  Json stored;            // as read (autoscaling/v2: the apiserver converts v1 objects)
  Json spec;
  Json status;            // rewritten by the sync
  std::string reference;  // "Deployment/default/web", for messages
  // ScalingActive=False as the first failing metric of this sync explains it.
  Json failed_condition;
};

namespace {

using client::Informer;

// How long the kinds discovery found stay trusted.
constexpr std::chrono::seconds kDiscoveryTTL{60};

std::string ToString(int64_t v) { return std::to_string(v); }

// metav1 condition handling of the HPA (upstream setConditionInList): the entry of
// `type` is updated in place or appended; lastTransitionTime moves only when the
// status changes.
void SetCondition(Json& status, const std::string& type, const std::string& cond_status, const std::string& reason,
                  const std::string& message, TimePoint now) {
  Json& conditions = status["conditions"];
  if (!conditions.is_array()) conditions = Json::array();
  for (Json& c : conditions) {
    if (c.value("type", "") != type) continue;
    if (c.value("status", "") != cond_status) c["lastTransitionTime"] = FormatRFC3339(now);
    c["status"] = cond_status;
    c["reason"] = reason;
    c["message"] = message;
    return;
  }
  conditions.push_back({{"type", type}, {"status", cond_status}, {"lastTransitionTime", FormatRFC3339(now)},
                        {"reason", reason}, {"message", message}});
}

// A milli-unit amount as Quantity writes it (canonical DecimalSI): "250m", "2", "100M".
std::string MilliQuantity(int64_t milli) {
  if (milli == 0) return "0";
  int exponent = -3;
  while (milli % 1000 == 0 && exponent < 18) {
    milli /= 1000;
    exponent += 3;
  }
  static const char* const kSuffix[] = {"m", "", "k", "M", "G", "T", "P", "E"};
  return std::to_string(milli) + kSuffix[(exponent + 3) / 3];
}

int32_t IntOr(const Json& obj, const char* key, int32_t fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int32_t>() : fallback;
}

bool HasField(const Json& obj, const char* key) { return obj.is_object() && obj.contains(key) && !obj[key].is_null(); }

labels::Labels LabelsOfPod(const Json& pod) {
  labels::Labels l;
  Json meta_labels = pod.value("metadata", Json::object()).value("labels", Json::object());
  if (!meta_labels.is_object()) return l;
  for (const auto& [k, v] : meta_labels.items()) {
    if (v.is_string()) l[k] = v.get<std::string>();
  }
  return l;
}

// The status the sync ends with (upstream setStatus): conditions are kept as the sync
// set them, lastScaleTime moves when the target was rescaled.
void SetStatus(Json& status, int32_t current, int32_t desired, const Json& metric_statuses, bool rescale,
                      TimePoint now) {
  Json out = Json::object();
  if (current != 0) out["currentReplicas"] = current;
  out["desiredReplicas"] = desired;
  if (rescale) out["lastScaleTime"] = FormatRFC3339(now);
  else if (HasField(status, "lastScaleTime")) out["lastScaleTime"] = status["lastScaleTime"];
  if (metric_statuses.is_array() && !metric_statuses.empty()) out["currentMetrics"] = metric_statuses;
  if (status.contains("conditions")) out["conditions"] = status["conditions"];
  status = std::move(out);
}

}  // namespace

HorizontalController::HorizontalController(client::Client* c, Informer& hpas, Informer& pods,
                                           std::unique_ptr<MetricsClient> metrics, HorizontalOptions options,
                                           const Clock& clock)
    : client_(c),
      hpas_(hpas),
      pods_(pods),
      metrics_(std::move(metrics)),
      options_(options),
      clock_(clock),
      calculator_(metrics_.get(), options.calculator, clock),
      normalizer_(options.downscale_stabilization, clock),
      recorder_(c, "horizontal-pod-autoscaler", "", clock) {
  auto enqueue = [this](const Json& hpa) { queue_.Add(Informer::KeyOf(hpa)); };
  pods_.AddIndex(Informer::kNamespaceIndex);
  hpas_.AddHandlers({.on_add = enqueue,
                     .on_update =
                         [this](const Json& old_hpa, const Json& hpa) {
                           // A spec change is acted on at once; the controller's own status
                           // writes wait for the next resync.
                           if (old_hpa.value("spec", Json()) != hpa.value("spec", Json())) {
                             queue_.Add(Informer::KeyOf(hpa));
                           }
                         },
                     .on_delete = enqueue});
}

void HorizontalController::Run(const std::atomic<bool>& stop) {
  while (!stop && !(hpas_.HasSynced() && pods_.HasSynced())) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // Every HPA is looked at again every sync period (upstream: the informer's resync and
  // a queue whose rate limiter waits one period), even when nothing about it changed:
  // the metrics did.
  std::thread resync([this, &stop] {
    while (!stop) {
      for (const auto& hpa : hpas_.Snapshot()) queue_.Add(Informer::KeyOf(*hpa));
      auto until = std::chrono::steady_clock::now() + options_.sync_period;
      while (!stop && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  // A failed sync is retried at the next resync, not sooner (upstream's fixed-interval
  // rate limiter): events and conditions already tell the user.
  RunWorker(queue_, stop, std::chrono::milliseconds(0), [this](const std::string& key) {
    (void)SyncHPA(key);
    return Status::OK();
  });
  resync.join();
}

Status HorizontalController::SyncHPA(const std::string& key) {
  Json stored;
  if (!hpas_.Get(key, &stored)) {
    normalizer_.Forget(key);
    std::lock_guard<std::mutex> lock(mu_);
    selectors_.erase(key);
    return Status::OK();
  }
  const Json& meta = stored["metadata"];
  if (HasField(meta, "deletionTimestamp")) return Status::OK();
  Autoscaler a;
  a.key = key;
  a.ns = meta.value("namespace", "");
  a.name = meta.value("name", "");
  a.spec = stored.value("spec", Json::object());
  a.status = stored.value("status", Json::object());
  if (!a.spec.is_object()) a.spec = Json::object();
  if (!a.status.is_object()) a.status = Json::object();
  // The apiserver defaults an empty list to this on every write; a sync does not rely on it.
  if (!a.spec.contains("metrics") || !a.spec["metrics"].is_array() || a.spec["metrics"].empty()) {
    a.spec["metrics"] = Json::array({{{"type", "Resource"},
                                      {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"},
                                                                                 {"averageUtilization", 80}}}}}}});
  }
  a.stored = std::move(stored);
  return ReconcileAutoscaler(a);
}

Result<client::Resource> HorizontalController::ResourceFor(const std::string& group, const std::string& kind) {
  std::string want = group + "/" + kind;
  std::lock_guard<std::mutex> lock(mu_);
  TimePoint now = clock_.Now();
  bool stale = now - kinds_fetched_ > kDiscoveryTTL;
  // An unknown kind may be a CustomResourceDefinition made a moment ago: look again,
  // at most every few seconds.
  if (stale || (!kinds_.count(want) && now - kinds_fetched_ > std::chrono::seconds(5))) {
    auto found = DiscoverResources(*client_);
    if (found.ok()) {
      kinds_.clear();
      for (const auto& d : *found) kinds_[d.resource.group + "/" + d.resource.kind] = d.resource;
      kinds_fetched_ = now;
    }
  }
  auto it = kinds_.find(want);
  if (it == kinds_.end()) return NotFound("no matches for kind \"" + kind + "\" in group \"" + group + "\"");
  return it->second;
}

Result<Json> HorizontalController::GetScale(Autoscaler& a, client::Resource* target) {
  const Json& ref = a.spec.value("scaleTargetRef", Json::object());
  std::string api_version = ref.value("apiVersion", ""), kind = ref.value("kind", ""), name = ref.value("name", "");
  a.reference = kind + "/" + a.ns + "/" + name;
  auto fail = [&](const std::string& error, const std::string& returned) -> Status {
    recorder_.Event(a.stored, "Warning", "FailedGetScale", error);
    SetCondition(a.status, "AbleToScale", "False", "FailedGetScale",
                 "the HPA controller was unable to get the target's current scale: " + error, clock_.Now());
    (void)UpdateStatusIfNeeded(a);
    return Internal(returned);
  };
  // "apps/v1" → group apps, version v1; "v1" → the core group.
  size_t slash = api_version.find('/');
  std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  std::string version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
  if (version.empty() || version.find('/') != std::string::npos) {
    std::string error = "unexpected GroupVersion string: " + api_version;
    return fail(error, "invalid API version in scale target reference: " + error);
  }
  auto resource = ResourceFor(group, kind);
  if (!resource.ok()) {
    return fail(resource.status().message(),
                "unable to determine resource for scale target reference: " + resource.status().message());
  }
  *target = *resource;
  target->version = version;
  auto scale = client_->GetPath(target->Path(a.ns, name, "scale"));
  if (!scale.ok()) {
    return fail(scale.status().message(),
                "failed to query scale subresource for " + a.reference + ": " + scale.status().message());
  }
  return scale;
}

Status HorizontalController::ReconcileAutoscaler(Autoscaler& a) {
  client::Resource target;
  auto scale = GetScale(a, &target);
  if (!scale.ok()) return scale.status();
  TimePoint now = clock_.Now();
  SetCondition(a.status, "AbleToScale", "True", "SucceededGetScale",
               "the HPA controller was able to get the target's current scale", now);
  int32_t current = IntOr(scale->value("spec", Json::object()), "replicas", 0);
  normalizer_.RecordInitialRecommendation(a.key, current);

  int32_t min_replicas = IntOr(a.spec, "minReplicas", 1);
  int32_t max_replicas = IntOr(a.spec, "maxReplicas", 0);
  bool has_behavior = HasField(a.spec, "behavior");
  Behavior behavior = BehaviorFromSpec(a.spec.value("behavior", Json()), options_.downscale_stabilization);
  int32_t desired = 0;
  std::string rescale_reason;
  bool rescale = true;
  Json metric_statuses = Json::array();
  Status result = Status::OK();

  if (current == 0 && min_replicas != 0) {
    // Someone scaled the target to zero: autoscaling is off until it is scaled up again.
    desired = 0;
    rescale = false;
    SetCondition(a.status, "ScalingActive", "False", "ScalingDisabled",
                 "scaling is disabled since the replica count of the target is zero", now);
  } else if (current > max_replicas) {
    rescale_reason = "Current number of replicas above Spec.MaxReplicas";
    desired = max_replicas;
  } else if (current < min_replicas) {
    rescale_reason = "Current number of replicas below Spec.MinReplicas";
    desired = min_replicas;
  } else {
    MetricsProposal p = ComputeReplicasForMetrics(a, *scale);
    metric_statuses = p.statuses;
    if (!p.error.ok() && p.replicas == -1) {
      SetStatus(a.status, current, IntOr(a.status, "desiredReplicas", 0), metric_statuses, false, now);
      (void)UpdateStatusIfNeeded(a);
      recorder_.Event(a.stored, "Warning", "FailedComputeMetricsReplicas", p.error.message());
      return Internal("failed to compute desired number of replicas based on listed metrics for " + a.reference +
                      ": " + p.error.message());
    }
    // Some metrics failed but the others ask for more: scale on those, report the error.
    result = p.error;
    std::string rescale_metric;
    if (p.replicas > desired) {
      desired = p.replicas;
      rescale_metric = p.metric;
    }
    if (desired > current) rescale_reason = rescale_metric + " above target";
    if (desired < current) rescale_reason = "All metrics below target";
    Normalized n = has_behavior ? normalizer_.NormalizeDesiredReplicasWithBehaviors(a.key, behavior, current, desired,
                                                                                     min_replicas, max_replicas)
                                : normalizer_.NormalizeDesiredReplicas(a.key, current, desired, min_replicas,
                                                                       max_replicas);
    SetCondition(a.status, "AbleToScale", "True", n.able_reason, n.able_message, now);
    SetCondition(a.status, "ScalingLimited", n.limited ? "True" : "False", n.limited_reason, n.limited_message, now);
    desired = n.replicas;
    rescale = desired != current;
  }

  if (rescale) {
    Json update = *scale;
    update["spec"]["replicas"] = desired;
    auto updated = client_->Update(target, a.ns, update, "scale");
    if (!updated.ok()) {
      std::string error = updated.status().message();
      recorder_.Event(a.stored, "Warning", "FailedRescale",
                      "New size: " + ToString(desired) + "; reason: " + rescale_reason + "; error: " + error);
      SetCondition(a.status, "AbleToScale", "False", "FailedUpdateScale",
                   "the HPA controller was unable to update the target scale: " + error, now);
      SetStatus(a.status, current, IntOr(a.status, "desiredReplicas", 0), metric_statuses, false, now);
      (void)UpdateStatusIfNeeded(a);
      return Internal("failed to rescale " + a.reference + ": " + error);
    }
    SetCondition(a.status, "AbleToScale", "True", "SucceededRescale",
                 "the HPA controller was able to update the target scale to " + ToString(desired), now);
    recorder_.Event(a.stored, "Normal", "SuccessfulRescale",
                    "New size: " + ToString(desired) + "; reason: " + rescale_reason);
    if (has_behavior) normalizer_.StoreScaleEvent(a.key, behavior, current, desired);
  } else {
    desired = current;
  }
  SetStatus(a.status, current, desired, metric_statuses, rescale, now);
  KUBES_RETURN_IF_ERROR(UpdateStatusIfNeeded(a));
  return result;
}

Result<labels::Selector> HorizontalController::ValidateAndParseSelector(Autoscaler& a, const std::string& text,
                                                                        std::vector<Json>& pods) {
  TimePoint now = clock_.Now();
  if (text.empty()) {
    recorder_.Event(a.stored, "Warning", "SelectorRequired", "selector is required");
    SetCondition(a.status, "ScalingActive", "False", "InvalidSelector", "the HPA target's scale is missing a selector",
                 now);
    return Invalid("selector is required");
  }
  auto selector = labels::Parse(text);
  if (!selector.ok()) {
    std::string error = "couldn't convert selector into a corresponding internal selector object: " +
                        selector.status().message();
    recorder_.Event(a.stored, "Warning", "InvalidSelector", error);
    SetCondition(a.status, "ScalingActive", "False", "InvalidSelector", error, now);
    return Invalid(error);
  }
  for (const auto& p : pods_.ByIndex(Informer::kNamespaceIndex, a.ns)) {
    if (selector->Matches(LabelsOfPod(*p))) pods.push_back(*p);
  }
  // Two HPAs on the same pods would fight each other: both stop.
  std::vector<std::string> controlling;
  {
    std::lock_guard<std::mutex> lock(mu_);
    selectors_[a.key] = *selector;
    for (const auto& [key, other] : selectors_) {
      if (!key.starts_with(a.ns + "/")) continue;
      for (const Json& p : pods) {
        if (other.Matches(LabelsOfPod(p))) {
          controlling.push_back(key);
          break;
        }
      }
    }
  }
  if (controlling.size() > 1) {
    std::string error = "pods by selector " + text + " are controlled by multiple HPAs: [" + Join(controlling, " ") + "]";
    recorder_.Event(a.stored, "Warning", "AmbiguousSelector", error);
    SetCondition(a.status, "ScalingActive", "False", "AmbiguousSelector", error, now);
    return Invalid(error);
  }
  return selector;
}

HorizontalController::MetricsProposal HorizontalController::ComputeReplicasForMetrics(Autoscaler& a,
                                                                                     const Json& scale) {
  MetricsProposal out;
  std::vector<Json> pods;
  std::string selector_text = scale.value("status", Json::object()).value("selector", "");
  auto selector = ValidateAndParseSelector(a, selector_text, pods);
  if (!selector.ok()) {
    out.replicas = -1;
    out.error = selector.status();
    return out;
  }
  int32_t spec_replicas = IntOr(scale.value("spec", Json::object()), "replicas", 0);
  const Json& specs = a.spec["metrics"];
  // One status per metric; a metric that fails keeps an empty one, as upstream.
  out.statuses = Json::array();
  for (size_t i = 0; i < specs.size(); ++i) out.statuses.push_back({{"type", ""}});
  int invalid = 0;
  std::string first_error;
  a.failed_condition = nullptr;
  for (size_t i = 0; i < specs.size(); ++i) {
    std::string metric_name;
    auto proposal = ComputeReplicasForMetric(a, specs[i], spec_replicas, *selector, pods, out.statuses[i], metric_name);
    if (!proposal.ok()) {
      if (invalid == 0) first_error = proposal.status().message();
      ++invalid;
      continue;
    }
    if (out.replicas == 0 || *proposal > out.replicas) {
      out.replicas = *proposal;
      out.metric = metric_name;
    }
  }
  if (invalid > 0) {
    out.error = Invalid("invalid metrics (" + ToString(invalid) + " invalid out of " + ToString(specs.size()) +
                        "), first error is: " + first_error);
  }
  // All metrics failed, or some failed and the others would scale down: better not.
  if (invalid >= static_cast<int>(specs.size()) || (invalid > 0 && out.replicas < spec_replicas)) {
    const Json& c = a.failed_condition;
    SetCondition(a.status, "ScalingActive", "False", c.value("reason", ""), c.value("message", ""), clock_.Now());
    out.replicas = -1;
    out.metric.clear();
    return out;
  }
  SetCondition(a.status, "ScalingActive", "True", "ValidMetricFound",
               "the HPA was able to successfully calculate a replica count from " + out.metric, clock_.Now());
  return out;
}

Result<int32_t> HorizontalController::ComputeReplicasForMetric(Autoscaler& a, const Json& spec, int32_t spec_replicas,
                                                               const labels::Selector& selector,
                                                               const std::vector<Json>& pods, Json& status,
                                                               std::string& metric_name) {
  std::string type = spec.value("type", "");
  // Records a failed metric: an event, the condition to show if no metric works, and
  // the error wrapped as upstream wraps it.
  auto failed = [&](const std::string& reason, const std::string& error, const std::string& wrapped) -> Status {
    recorder_.Event(a.stored, "Warning", reason, error);
    if (a.failed_condition.is_null()) {
      a.failed_condition = {{"reason", reason}, {"message", "the HPA was unable to compute the replica count: " + error}};
    }
    return Invalid(wrapped);
  };
  if (type == "Resource" || type == "ContainerResource") {
    bool per_container = type == "ContainerResource";
    const Json& source = spec.value(per_container ? "containerResource" : "resource", Json::object());
    std::string resource = source.value("name", "");
    std::string container = per_container ? source.value("container", "") : "";
    const Json& target = source.value("target", Json::object());
    std::string reason = per_container ? "FailedGetContainerResourceMetric" : "FailedGetResourceMetric";
    std::string wrap = per_container ? "failed to get " + resource + " container metric value: "
                                     : "failed to get " + resource + " resource metric value: ";
    Json current;
    int32_t replicas = 0;
    if (HasField(target, "averageValue")) {
      auto r = calculator_.GetRawResourceReplicas(spec_replicas, resource::QuantityMilliValue(target["averageValue"]),
                                                  resource, a.ns, selector, container, pods);
      if (!r.ok()) {
        std::string error = "failed to get " + resource + " usage: " + r.status().message();
        return failed(reason, error, wrap + error);
      }
      replicas = r->replicas;
      metric_name = resource + " resource";
      current = {{"averageValue", MilliQuantity(r->raw_usage)}};
    } else if (HasField(target, "averageUtilization")) {
      auto r = calculator_.GetResourceReplicas(spec_replicas, IntOr(target, "averageUtilization", 0), resource, a.ns,
                                               selector, container, pods);
      if (!r.ok()) {
        std::string error = "failed to get " + resource + " utilization: " + r.status().message();
        return failed(reason, error, wrap + error);
      }
      replicas = r->replicas;
      metric_name = resource + (per_container ? " container" : "") + " resource utilization (percentage of request)";
      current = {{"averageUtilization", r->utilization}, {"averageValue", MilliQuantity(r->raw_usage)}};
    } else {
      std::string error =
          "invalid resource metric source: neither an average utilization target nor an average value (usage) target "
          "was set";
      return failed(reason, error, wrap + error);
    }
    Json entry = {{"name", resource}, {"current", current}};
    if (per_container) entry["container"] = container;
    status = {{"type", type}, {per_container ? "containerResource" : "resource", entry}};
    return replicas;
  }
  // Custom and external metrics come from APIs kubes does not serve.
  if (type == "Pods" || type == "Object") {
    std::string name = spec.value(type == "Pods" ? "pods" : "object", Json::object())
                           .value("metric", Json::object())
                           .value("name", "");
    std::string error = "unable to get metric " + name +
                        ": unable to fetch metrics from custom metrics API: kubes does not serve the custom metrics "
                        "API (custom.metrics.k8s.io)";
    if (type == "Pods") return failed("FailedGetPodsMetric", error, "failed to get pods metric value: " + error);
    return failed("FailedGetObjectMetric", error, "failed to get object metric value: " + error);
  }
  if (type == "External") {
    std::string name = spec.value("external", Json::object()).value("metric", Json::object()).value("name", "");
    std::string error = "unable to get external metric " + a.ns + "/" + name +
                        ": unable to fetch metrics from external metrics API: kubes does not serve the external "
                        "metrics API (external.metrics.k8s.io)";
    return failed("FailedGetExternalMetric", error, "failed to get " + name + " external metric value: " + error);
  }
  std::string error = "unknown metric source type \"" + type + "\"";
  return failed("InvalidMetricSourceType", error, error);
}

Status HorizontalController::UpdateStatusIfNeeded(const Autoscaler& a) {
  if (a.status == a.stored.value("status", Json::object())) return Status::OK();
  Json obj = a.stored;
  obj["status"] = a.status;
  auto updated = client_->Update(kHorizontalPodAutoscalers, a.ns, obj, "status");
  if (!updated.ok()) {
    recorder_.Event(a.stored, "Warning", "FailedUpdateStatus", updated.status().message());
    return Internal("failed to update status for " + a.name + ": " + updated.status().message());
  }
  return Status::OK();
}

}  // namespace kubes::controller::podautoscaler
