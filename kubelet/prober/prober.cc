#include "kubelet/prober/prober.h"

#include "kubelet/prober/grpc.h"
#include "kubelet/prober/http.h"
#include "kubelet/prober/tcp.h"

namespace kubes::kubelet::prober {
namespace {

constexpr int kMaxProbeRetries = 3;

}  // namespace

const char* ProbeTypeString(ProbeType t) {
  switch (t) {
    case ProbeType::kLiveness:
      return "Liveness";
    case ProbeType::kReadiness:
      return "Readiness";
    case ProbeType::kStartup:
      return "Startup";
  }
  return "UNKNOWN";
}

const char* ProbeField(ProbeType t) {
  switch (t) {
    case ProbeType::kLiveness:
      return "livenessProbe";
    case ProbeType::kReadiness:
      return "readinessProbe";
    case ProbeType::kStartup:
      return "startupProbe";
  }
  return "";
}

std::string ContainerFieldPath(const Json& pod, const std::string& name) {
  const Json& spec = pod.contains("spec") ? pod["spec"] : Json::object();
  for (const auto& c : spec.value("initContainers", Json::array())) {
    if (c.value("name", "") == name) return "spec.initContainers{" + name + "}";
  }
  return "spec.containers{" + name + "}";
}

void Prober::Event(const PodView& pod, const Json& container, const std::string& reason, const std::string& message) {
  if (!options_.event) return;
  options_.event(*pod.pod, ContainerFieldPath(*pod.pod, container.value("name", "")), "Warning", reason, message);
}

std::chrono::milliseconds ProbeTimeout(const Json& probe) {
  int64_t seconds = probe.contains("timeoutSeconds") && probe["timeoutSeconds"].is_number_integer()
                        ? probe["timeoutSeconds"].get<int64_t>()
                        : 1;
  return std::chrono::milliseconds(std::max<int64_t>(seconds, 1) * 1000);
}

ProbeOutput Prober::RunProbe(const Json& probe, const PodView& pod, const Json& container,
                             const std::string& container_id) {
  auto timeout = ProbeTimeout(probe);
  std::string user_agent = "kube-probe/" + options_.version;
  if (probe.contains("exec")) {
    std::vector<std::string> command;
    for (const auto& a : probe["exec"].value("command", Json::array())) {
      if (a.is_string()) command.push_back(a.get<std::string>());
    }
    if (options_.expand) command = options_.expand(command, container);
    if (!options_.exec) return ProbeOutput::Error(Internal("exec probes are not available here"));
    return ExecProbeOutput(command, options_.exec(container_id, command, timeout));
  }
  if (probe.contains("httpGet")) {
    auto req = NewRequestForHTTPGetAction(probe["httpGet"], container, pod.pod_ip, user_agent);
    if (!req.ok()) return ProbeOutput::Error(req.status());
    return DoHTTPProbe(*req, timeout);
  }
  if (probe.contains("tcpSocket")) {
    auto port = ResolveContainerPort(probe["tcpSocket"].value("port", Json()), container);
    if (!port.ok()) return ProbeOutput::Error(port.status());
    std::string host = probe["tcpSocket"].value("host", "");
    return DoTCPProbe(host.empty() ? pod.pod_ip : host, *port, timeout);
  }
  if (probe.contains("grpc")) {
    const Json& g = probe["grpc"];
    int port = g.value("port", 0);
    std::string service = g.contains("service") && g["service"].is_string() ? g["service"].get<std::string>() : "";
    return DoGRPCProbe(pod.pod_ip, port, service, timeout, user_agent);
  }
  const Json& meta = pod.pod->value("metadata", Json::object());
  return ProbeOutput::Error(Internal("missing probe handler for " + meta.value("name", "") + "_" +
                                     meta.value("namespace", "") + "(" + meta.value("uid", "") +
                                     "):" + container.value("name", "")));
}

ProbeOutput Prober::RunProbeWithRetries(const Json& probe, const PodView& pod, const Json& container,
                                        const std::string& container_id) {
  ProbeOutput out;
  for (int attempt = 0; attempt < kMaxProbeRetries; ++attempt) {
    out = RunProbe(probe, pod, container, container_id);
    if (out.error.ok()) break;
  }
  return out;
}

ProbeResult Prober::Probe(ProbeType type, const PodView& pod, const Json& container, const std::string& container_id,
                          bool* errored) {
  *errored = false;
  const char* field = ProbeField(type);
  if (!container.contains(field) || !container[field].is_object()) return ProbeResult::kSuccess;
  return Verdict(type, pod, container, RunProbeWithRetries(container[field], pod, container, container_id), errored);
}

ProbeResult Prober::Verdict(ProbeType type, const PodView& pod, const Json& container, const ProbeOutput& out,
                            bool* errored) {
  *errored = false;
  std::string kind = ProbeTypeString(type);
  if (!out.error.ok()) {
    Event(pod, container, "Unhealthy",
          kind + " probe errored and resulted in " + ProbeResultString(out.result) + " state: " + out.error.message());
    *errored = true;
    return ProbeResult::kFailure;
  }
  switch (out.result) {
    case ProbeResult::kSuccess:
      return ProbeResult::kSuccess;
    case ProbeResult::kWarning:
      Event(pod, container, "ProbeWarning", kind + " probe warning: " + out.output);
      return ProbeResult::kSuccess;
    case ProbeResult::kFailure:
      Event(pod, container, "Unhealthy", kind + " probe failed: " + out.output);
      return ProbeResult::kFailure;
    case ProbeResult::kUnknown:
      break;
  }
  return ProbeResult::kFailure;
}

}  // namespace kubes::kubelet::prober
