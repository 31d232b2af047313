#include "config.h"

#include <cstdlib>

namespace kubes::demo {
namespace {

bool ReadPort(const Getenv& getenv, const char* name, int* port, std::string* error) {
  auto v = getenv(name);
  if (!v) return true;
  int n = 0;
  bool digits = !v->empty() && v->size() <= 5;
  for (char c : *v) {
    digits = digits && c >= '0' && c <= '9';
    if (digits) n = n * 10 + (c - '0');
  }
  if (!digits || n < 1 || n > 65535) {
    *error = std::string(name) + ": \"" + *v + "\" is not a port number (1-65535)";
    return false;
  }
  *port = n;
  return true;
}

bool ReadDuration(const Getenv& getenv, const char* name, std::optional<Duration>* out, std::string* error) {
  auto v = getenv(name);
  if (!v) return true;
  *out = ParseDuration(*v);
  if (!*out) {
    *error = std::string(name) + ": \"" + *v + "\" is not a duration (like 10s, 500ms, 1m30s; at most 24h)";
    return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> RealGetenv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

bool LoadConfig(const Getenv& raw_getenv, Config* config, std::string* error) {
  // Empty counts as unset: `value: ""` in a manifest should not break the start.
  Getenv getenv = [&raw_getenv](const char* name) -> std::optional<std::string> {
    auto v = raw_getenv(name);
    if (v && v->empty()) return std::nullopt;
    return v;
  };
  if (!ReadPort(getenv, "PORT", &config->port, error)) return false;
  if (!ReadPort(getenv, "TLS_PORT", &config->tls_port, error)) return false;
  if (config->port == config->tls_port) {
    *error = "PORT and TLS_PORT are both " + std::to_string(config->port);
    return false;
  }
  config->tls_cert = getenv("TLS_CERT").value_or(config->tls_cert);
  config->tls_key = getenv("TLS_KEY").value_or(config->tls_key);
  config->pod.name = getenv("POD_NAME").value_or("unknown");
  config->pod.namespace_ = getenv("POD_NAMESPACE").value_or("unknown");
  config->pod.ip = getenv("POD_IP").value_or("unknown");
  config->pod.node = getenv("NODE_NAME").value_or("unknown");
  std::optional<Duration> shutdown_delay;
  if (!ReadDuration(getenv, "READY_AFTER", &config->ready_after, error) ||
      !ReadDuration(getenv, "STARTUP_DELAY", &config->startup_delay, error) ||
      !ReadDuration(getenv, "FAIL_HEALTHZ_AFTER", &config->fail_healthz_after, error) ||
      !ReadDuration(getenv, "SHUTDOWN_DELAY", &shutdown_delay, error)) {
    return false;
  }
  config->shutdown_delay = shutdown_delay.value_or(Duration(0));
  return true;
}

void ApplyStartState(const Config& config, Control* control) {
  const Behaviour ok{Behaviour::Kind::kOk, Duration(0)};
  const Behaviour fail{Behaviour::Kind::kFail, Duration(0)};
  if (config.ready_after) {
    control->Set(Probe::kReadyz, fail);
    control->SetAfter(Probe::kReadyz, *config.ready_after, ok);
  }
  if (config.startup_delay) {
    control->Set(Probe::kStartupz, fail);
    control->SetAfter(Probe::kStartupz, *config.startup_delay, ok);
  }
  if (config.fail_healthz_after) control->SetAfter(Probe::kHealthz, *config.fail_healthz_after, fail);
}

}  // namespace kubes::demo
