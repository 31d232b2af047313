// Lifecycle hooks — running a container's postStart or preStop handler (upstream:
// pkg/kubelet/lifecycle/handlers.go, and kuberuntime_container.go for when they run).
//
// RunLifecycleHandler runs one handler:
//   exec     the command in the container (the runtime's exec, as exec probes);
//            fails when it exits non-zero;
//   httpGet  a GET to the pod IP (or `host`), User-Agent kube-lifecycle/1.32; fails
//            only when the request fails — the status code does not matter, as
//            upstream. An HTTPS hook answered in plain HTTP is retried over HTTP, with
//            a LifecycleHTTPFallback event;
//   sleep    waits `seconds`;
//   tcpSocket (deprecated, kept in the API for old objects) fails, as upstream says
//            it does at runtime.
// and returns "" or the failure message as upstream words it, e.g.
//   Exec lifecycle hook ([sh -c exit 1]) for Container "app" in Pod "web_default(<uid>)"
//   failed - error: command 'sh -c exit 1' exited with 1: , message: ""
// That message goes into the container's waiting reason (PostStartHookError); the
// events only say "PostStartHook failed" / "PreStopHook failed", as upstream, so
// nothing a hook prints (secrets) leaks into events.
//
// When hooks run is the kubelet's part (pod_sync.cc, container_stop.cc): postStart
// right after the container starts — the container is not Running or started in
// status until it finished, later containers of the pod wait for it, and a failure
// kills the container (restarted per restartPolicy); preStop before the stop signal,
// its time counted against the grace period. Both run on the prober's thread pool, so
// no pod worker waits for a hook.
//
// Thread-safety: RunLifecycleHandler may run on any thread; the callbacks must allow it.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kubelet/prober/exec.h"
#include "util/status.h"

namespace kubes::kubelet {

using Json = nlohmann::json;

struct HookTarget {
  Json pod;
  Json container;
  std::string container_id;
  std::string pod_ip;
};

struct HookOptions {
  std::string version = "1.32";  // User-Agent: kube-lifecycle/1.32
  // The hook gives up after this long (preStop: the grace period).
  std::chrono::milliseconds timeout = std::chrono::hours(24);
  const std::atomic<bool>* cancel = nullptr;  // the kubelet is stopping
  std::function<Result<prober::ExecResult>(const std::string& container_id, const std::vector<std::string>& command,
                                           std::chrono::milliseconds timeout)>
      exec;
  // A warning event about the pod (LifecycleHTTPFallback).
  std::function<void(const std::string& reason, const std::string& message)> pod_event;
};

// Runs `handler` (a LifecycleHandler); "" when it succeeded, else why not.
std::string RunLifecycleHandler(const Json& handler, const HookTarget& target, const HookOptions& options);

// Go's %q of a string: "a \"b\"\n" → "\"a \\\"b\\\"\\n\"".
std::string GoQuote(const std::string& s);

}  // namespace kubes::kubelet
