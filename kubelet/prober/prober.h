// Prober — runs one probe of a container: picks the handler of its spec (exec,
// httpGet, tcpSocket, grpc), runs it with the probe's timeoutSeconds, and records the
// events upstream records (upstream: pkg/kubelet/prober/prober.go).
//
//   failure  → Warning Unhealthy      "Liveness probe failed: <output>"
//   warning  → Warning ProbeWarning   "Readiness probe warning: <output>"  (counts as success)
//   error    → Warning Unhealthy      "Startup probe errored and resulted in unknown state: <error>"
// An error (the handler could not run, e.g. a port name the container does not
// declare) is retried up to three times, then thrown away: it does not count towards
// a threshold.
//
// Exec probes run through the kubelet (the container's runtime `exec`); the command's
// $(VAR) references are expanded from the container's literal env values only
// (upstream ExpandContainerCommandOnlyStatic). HTTP, TCP and gRPC probes go to the pod
// IP from the kubelet's host network namespace, which reaches the pods over the bridge.
//
// Thread-safety: Probe may be called from many threads at once; the callbacks must
// allow that.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kubelet/prober/exec.h"
#include "kubelet/prober/probe.h"
#include "util/time.h"

namespace kubes::kubelet::prober {

using Json = nlohmann::json;

enum class ProbeType { kLiveness, kReadiness, kStartup };
// "Liveness", "Readiness", "Startup" (as events spell them).
const char* ProbeTypeString(ProbeType t);
// The container spec's field: "livenessProbe", …
const char* ProbeField(ProbeType t);

// What the kubelet's last sync saw of one container.
struct ContainerView {
  std::string id;           // the runtime's ID of the current instance; "" before the first
  bool running = false;     // running, and its postStart hook done
  bool terminated = false;  // exited
  TimePoint started_at{};
};

// What the kubelet's last sync saw of a pod: the probes' whole world (upstream: the
// status manager's copy of the pod status).
struct PodView {
  // The API object: spec (probes, ports, env, restartPolicy) and metadata. The
  // kubelet's informer's own object, shared: no second copy of every pod.
  std::shared_ptr<const Json> pod = std::make_shared<const Json>(Json::object());
  std::string pod_ip;
  bool terminal = false;  // phase Succeeded or Failed
  std::map<std::string, ContainerView> containers;  // by name, init and app containers

  bool deleting() const { return pod->contains("metadata") && (*pod)["metadata"].contains("deletionTimestamp"); }
};

struct ProberOptions {
  std::string version = "1.32";  // in User-Agent: kube-probe/1.32
  // Runs a command in a running container (the runtime's exec), with a timeout.
  std::function<Result<ExecResult>(const std::string& container_id, const std::vector<std::string>& command,
                                   std::chrono::milliseconds timeout)>
      exec;
  // Records an event about a container of the pod (field_path "spec.containers{app}").
  std::function<void(const Json& pod, const std::string& field_path, const std::string& type,
                     const std::string& reason, const std::string& message)>
      event;
  // $(VAR) expansion of an exec command against the container's env.
  std::function<std::vector<std::string>(const std::vector<std::string>& command, const Json& container)> expand;
};

class Prober {
 public:
  explicit Prober(ProberOptions options) : options_(std::move(options)) {}

  // Runs the container's probe of `type` once, records events, and returns kSuccess or
  // kFailure; *errored is set (and the result should be dropped) when it could not run.
  ProbeResult Probe(ProbeType type, const PodView& pod, const Json& container, const std::string& container_id,
                    bool* errored);

  // One run of a probe spec's handler, without events or retries.
  ProbeOutput RunProbe(const Json& probe, const PodView& pod, const Json& container, const std::string& container_id);
  // RunProbe again while it errors, up to three times.
  ProbeOutput RunProbeWithRetries(const Json& probe, const PodView& pod, const Json& container,
                                  const std::string& container_id);
  // What a handler's output means for the worker, with its events (Probe's second half).
  ProbeResult Verdict(ProbeType type, const PodView& pod, const Json& container, const ProbeOutput& out,
                      bool* errored);
  const ProberOptions& options() const { return options_; }

 private:
  void Event(const PodView& pod, const Json& container, const std::string& reason, const std::string& message);

  ProberOptions options_;
};

// A probe's timeoutSeconds (at least 1 s).
std::chrono::milliseconds ProbeTimeout(const Json& probe);

// "spec.containers{app}" or "spec.initContainers{setup}": the event's fieldPath.
std::string ContainerFieldPath(const Json& pod, const std::string& container_name);

}  // namespace kubes::kubelet::prober
