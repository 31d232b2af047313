// libFuzzer harness: arbitrary bytes as a kubelet's /stats/summary answer. Parsing and
// building the metrics objects from whatever parses must never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/summary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto summary = kubes::metrics::ParseSummary(body);
  if (!summary.ok()) return 0;
  kubes::TimePoint now{};
  nlohmann::json node = {{"metadata", {{"name", summary->node_name}}}};
  if (summary->node.known) (void)kubes::metrics::NodeMetricsObject(summary->node, node, now).dump();
  for (const auto& pod : summary->pods) {
    nlohmann::json obj = {{"metadata", {{"name", pod.name}, {"namespace", pod.namespace_}}}};
    (void)kubes::metrics::PodMetricsObject(pod, obj, now).dump();
  }
  return 0;
}
