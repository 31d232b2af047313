#include "kubelet/prober/worker.h"

namespace kubes::kubelet::prober {
namespace {

int64_t Field(const Json& spec, const char* name, int64_t fallback) {
  if (!spec.contains(name) || !spec[name].is_number_integer()) return fallback;
  return spec[name].get<int64_t>();
}

}  // namespace

bool IsStarted(const Json& container, const std::string& container_id, const ResultsManager& startup) {
  if (!container.contains("startupProbe") || !container["startupProbe"].is_object()) return true;
  ProbeResult r;
  return startup.Get(container_id, &r) && r == ProbeResult::kSuccess;
}

Worker::Worker(std::string pod_uid, Json container, ProbeType type, Deps deps)
    : pod_uid_(std::move(pod_uid)), container_(std::move(container)), type_(type), deps_(deps) {
  name_ = container_.value("name", "");
  const Json& s = spec();
  // Defaults as the API's (the apiserver has set them already).
  period_ = std::chrono::seconds(std::max<int64_t>(1, Field(s, "periodSeconds", 10)));
  initial_delay_ = Field(s, "initialDelaySeconds", 0);
  success_threshold_ = std::max<int64_t>(1, Field(s, "successThreshold", 1));
  failure_threshold_ = std::max<int64_t>(1, Field(s, "failureThreshold", 3));
  initial_ = type == ProbeType::kReadiness ? ProbeResult::kFailure
             : type == ProbeType::kLiveness ? ProbeResult::kSuccess
                                            : ProbeResult::kUnknown;
}

bool Worker::DoProbe(const PodView* pod, TimePoint now) {
  Tick tick = Prepare(pod, now);
  if (tick != Tick::kProbe) return tick == Tick::kWait;
  bool errored = false;
  ProbeResult result = deps_.prober->Probe(type_, *pod, container_, container_id_, &errored);
  Record(result, errored);
  return true;
}

Worker::Tick Worker::Prepare(const PodView* pod, TimePoint now) {
  if (!pod) return Tick::kWait;  // the kubelet has not synced the pod yet
  if (pod->terminal) return Tick::kStop;
  auto it = pod->containers.find(name_);
  if (it == pod->containers.end() || it->second.id.empty()) return Tick::kWait;  // not created yet
  const ContainerView& c = it->second;

  if (c.id != container_id_) {
    if (!container_id_.empty()) deps_.results->Remove(container_id_);
    container_id_ = c.id;
    deps_.results->Set(container_id_, initial_, pod_uid_);
    on_hold_ = false;  // a new container: probe again
    probed_ = false;
  }
  if (on_hold_) return Tick::kWait;

  if (!c.running) {
    deps_.results->Set(container_id_, ProbeResult::kFailure, pod_uid_);
    // Stop if it will not be restarted.
    bool restarts = pod->pod->value("spec", Json::object()).value("restartPolicy", "Always") != "Never" ||
                    container_.value("restartPolicy", "") == "Always";
    return !c.terminated || restarts ? Tick::kWait : Tick::kStop;
  }
  if (pod->deleting() && (type_ == ProbeType::kLiveness || type_ == ProbeType::kStartup)) {
    // A quiet shutdown: no restart for a pod on its way out.
    deps_.results->Set(container_id_, ProbeResult::kSuccess, pod_uid_);
    return Tick::kStop;
  }
  if (now - c.started_at < std::chrono::seconds(initial_delay_)) return Tick::kWait;

  bool started = IsStarted(container_, container_id_, *deps_.startup);
  if (started == (type_ == ProbeType::kStartup)) return Tick::kWait;  // startup probes before, the others after
  return Tick::kProbe;
}

void Worker::Record(ProbeResult result, bool errored) {
  if (errored) return;  // thrown away
  probed_ = true;
  if (result == last_result_) {
    ++result_run_;
  } else {
    last_result_ = result;
    result_run_ = 1;
  }
  if ((result == ProbeResult::kFailure && result_run_ < failure_threshold_) ||
      (result == ProbeResult::kSuccess && result_run_ < success_threshold_)) {
    return;  // below the threshold: the result stands as it was
  }
  deps_.results->Set(container_id_, result, pod_uid_);
  if ((type_ == ProbeType::kLiveness || type_ == ProbeType::kStartup) && result == ProbeResult::kFailure) {
    // The container will be restarted; probe again only once it has a new ID.
    on_hold_ = true;
    result_run_ = 0;
  }
}

}  // namespace kubes::kubelet::prober
