// Config — kubes-demo's settings, all from environment variables (a container's natural
// knobs: `env:` in a manifest, `kubectl set env`, the downward API).
//
//   PORT=8080, TLS_PORT=8443           where to listen
//   TLS_CERT, TLS_KEY                  PEM files; TLS is served only when both exist
//                                      (default /etc/kubes-demo/tls/tls.{crt,key}: mount a
//                                      kubernetes.io/tls Secret at /etc/kubes-demo/tls)
//   POD_NAME, POD_NAMESPACE, POD_IP, NODE_NAME   shown by / (from the downward API)
//   READY_AFTER=D          /readyz fails for the first D, then passes
//   STARTUP_DELAY=D        /startupz fails for the first D, then passes
//   FAIL_HEALTHZ_AFTER=D   /healthz passes for the first D, then fails
//   SHUTDOWN_DELAY=D       after SIGTERM, keep serving for D before closing the listeners
//
// D is a duration as duration.h reads it ("10s", "1m30s", "500ms", "10").
// Thread-safety: plain functions and values.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "control.h"
#include "duration.h"

namespace kubes::demo {

// Who is answering: shown by "/" so a learner sees which pod a Service picked.
struct PodInfo {
  std::string name = "unknown";
  std::string namespace_ = "unknown";
  std::string ip = "unknown";
  std::string node = "unknown";
  std::string hostname = "unknown";
};

struct Config {
  int port = 8080;
  int tls_port = 8443;
  std::string tls_cert = "/etc/kubes-demo/tls/tls.crt";
  std::string tls_key = "/etc/kubes-demo/tls/tls.key";
  PodInfo pod;
  std::optional<Duration> ready_after;
  std::optional<Duration> startup_delay;
  std::optional<Duration> fail_healthz_after;
  Duration shutdown_delay{0};
};

// Returns the value of an environment variable, nullopt when unset.
using Getenv = std::function<std::optional<std::string>(const char* name)>;

// The process's real environment.
std::optional<std::string> RealGetenv(const char* name);

// Reads every variable above. On a malformed value returns false with *error naming the
// variable and what was wrong ("READY_AFTER: \"ten\" is not a duration ...").
// An empty variable counts as unset.
bool LoadConfig(const Getenv& getenv, Config* config, std::string* error);

// Puts control into the state the durations above ask for at start.
void ApplyStartState(const Config& config, Control* control);

}  // namespace kubes::demo
