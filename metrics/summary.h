// The kubelet's Summary (GET /stats/summary, see kubelet/stats.h) read into the
// numbers metrics.k8s.io serves, and those numbers written as NodeMetrics and
// PodMetrics objects (upstream: metrics-server's summary decoder, pkg/sources/summary
// of v0.3-v0.5, and its API objects in pkg/api).
//
// The summary comes from a kubelet, possibly on another machine: it is untrusted input.
// Anything that is not a Summary is an error; a pod or container without a CPU rate or
// a working set is left out (its use is not known yet), as metrics-server leaves out
// pods with incomplete metrics.
//
// Quantities are written as metrics-server writes them: CPU from nanocores in
// Kubernetes' canonical decimal form ("123456n", "2m", "1"), memory from bytes in the
// canonical binary form ("12345Ki", "1Gi", "1500").
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"
#include "util/time.h"

namespace kubes::metrics {

using Json = nlohmann::json;

// How long the kubelet measures CPU use over (kubelet/stats.h, StatsCollector::kWindow).
inline constexpr std::chrono::seconds kWindow{15};

struct ContainerUsage {
  std::string name;
  int64_t cpu_nanocores = 0;
  int64_t memory_bytes = 0;
};

struct PodUsage {
  std::string namespace_;
  std::string name;
  TimePoint timestamp{};  // the newest of its containers' readings
  std::vector<ContainerUsage> containers;
  std::string uid;  // "" when the kubelet did not say
};

struct NodeUsage {
  bool known = false;  // false when the summary had no complete node figures
  TimePoint timestamp{};
  int64_t cpu_nanocores = 0;
  int64_t memory_bytes = 0;
};

struct NodeSummary {
  std::string node_name;
  NodeUsage node;
  std::vector<PodUsage> pods;
};

// Reads the body of a kubelet's /stats/summary.
Result<NodeSummary> ParseSummary(std::string_view body);

// "123456n", "250m", "2" (canonical DecimalSI of nanocores).
std::string FormatCPU(int64_t nanocores);
// "12345Ki", "64Mi", "1500" (canonical BinarySI of bytes).
std::string FormatMemory(int64_t bytes);

// metrics.k8s.io/v1beta1 objects. node and pod are the API objects they describe (their
// labels are copied, as metrics-server does); now is the creationTimestamp.
Json NodeMetricsObject(const NodeUsage& usage, const Json& node, TimePoint now);
Json PodMetricsObject(const PodUsage& usage, const Json& pod, TimePoint now);

}  // namespace kubes::metrics
