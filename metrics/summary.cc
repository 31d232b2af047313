#include "metrics/summary.h"

#include <limits>

namespace kubes::metrics {
namespace {

// obj[key] when obj is an object that has it, else nullptr (never throws).
const Json* Field(const Json* obj, const char* key) {
  if (obj == nullptr || !obj->is_object()) return nullptr;
  auto it = obj->find(key);
  return it == obj->end() ? nullptr : &*it;
}

std::optional<std::string> String(const Json* v) {
  if (v == nullptr || !v->is_string() || v->get_ref<const std::string&>().empty()) return std::nullopt;
  return v->get<std::string>();
}

// A non-negative integer that fits int64 (the summary's counters are uint64).
std::optional<int64_t> Count(const Json* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v->is_number_integer() && v->get<int64_t>() >= 0) return v->get<int64_t>();
  return std::nullopt;
}

// CPU rate, working set and the time of one stats entry ({"cpu": …, "memory": …}).
struct Usage {
  int64_t cpu_nanocores = 0;
  int64_t memory_bytes = 0;
  TimePoint time{};
};
std::optional<Usage> UsageOf(const Json& entry) {
  const Json* cpu = Field(&entry, "cpu");
  auto nanocores = Count(Field(cpu, "usageNanoCores"));
  auto working_set = Count(Field(Field(&entry, "memory"), "workingSetBytes"));
  auto time = String(Field(cpu, "time"));
  if (!nanocores || !working_set || !time) return std::nullopt;
  auto at = ParseRFC3339(*time);
  if (!at) return std::nullopt;
  return Usage{*nanocores, *working_set, *at};
}

// One pod of the summary, or nullopt when something of it is missing.
std::optional<PodUsage> PodOf(const Json& entry) {
  const Json* ref = Field(&entry, "podRef");
  auto name = String(Field(ref, "name"));
  auto ns = String(Field(ref, "namespace"));
  const Json* containers = Field(&entry, "containers");
  if (!name || !ns || containers == nullptr || !containers->is_array() || containers->empty()) return std::nullopt;
  PodUsage pod{*ns, *name, {}, {}, String(Field(ref, "uid")).value_or("")};
  for (const Json& c : *containers) {
    auto cname = String(Field(&c, "name"));
    auto usage = UsageOf(c);
    if (!cname || !usage) return std::nullopt;
    pod.containers.push_back({*cname, usage->cpu_nanocores, usage->memory_bytes});
    pod.timestamp = std::max(pod.timestamp, usage->time);
  }
  return pod;
}

const char* DecimalSuffix(int exponent) {
  switch (exponent) {
    case -9: return "n";
    case -6: return "u";
    case -3: return "m";
    case 3: return "k";
    case 6: return "M";
    case 9: return "G";
    case 12: return "T";
    case 15: return "P";
    case 18: return "E";
    default: return "";
  }
}

// value × 10^exponent in canonical DecimalSI: the largest power-of-1000 suffix that
// keeps the number whole.
std::string Decimal(int64_t value, int exponent) {
  if (value == 0) return "0";
  while (value % 1000 == 0 && exponent < 18) {
    value /= 1000;
    exponent += 3;
  }
  return std::to_string(value) + DecimalSuffix(exponent);
}

}  // namespace

Result<NodeSummary> ParseSummary(std::string_view body) {
  Json doc = Json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return BadRequest("the kubelet's summary is not a JSON object");
  const Json* node = Field(&doc, "node");
  auto name = String(Field(node, "nodeName"));
  if (!name) return BadRequest("the kubelet's summary names no node");
  NodeSummary out;
  out.node_name = *name;
  if (auto usage = UsageOf(*node)) out.node = {true, usage->time, usage->cpu_nanocores, usage->memory_bytes};
  const Json* pods = Field(&doc, "pods");
  if (pods != nullptr && !pods->is_array()) return BadRequest("the kubelet's summary has no list of pods");
  if (pods != nullptr) {
    for (const Json& p : *pods) {
      if (auto pod = PodOf(p)) out.pods.push_back(std::move(*pod));
    }
  }
  return out;
}

std::string FormatCPU(int64_t nanocores) {
  if (nanocores < 0) return "-" + Decimal(-nanocores, -9);
  return Decimal(nanocores, -9);
}

std::string FormatMemory(int64_t bytes) {
  if (bytes < 0) return "-" + FormatMemory(-bytes);
  // Below 1Ki, and for amounts no binary suffix writes exactly, upstream falls back to
  // the decimal form.
  if (bytes < 1024) return Decimal(bytes, 0);
  static const char* const kSuffix[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  int i = 0;
  while (bytes % 1024 == 0 && i < 6) {
    bytes /= 1024;
    ++i;
  }
  return std::to_string(bytes) + kSuffix[i];
}

namespace {

Json MetadataFor(const Json& obj, TimePoint now, bool namespaced) {
  const Json& meta = obj.value("metadata", Json::object());
  Json out = {{"name", meta.value("name", "")}, {"creationTimestamp", FormatRFC3339(now)}};
  if (namespaced) out["namespace"] = meta.value("namespace", "");
  if (meta.contains("labels") && meta["labels"].is_object() && !meta["labels"].empty()) out["labels"] = meta["labels"];
  return out;
}

std::string Window() { return GoDurationString(std::chrono::nanoseconds(kWindow).count()); }

}  // namespace

Json NodeMetricsObject(const NodeUsage& usage, const Json& node, TimePoint now) {
  return {{"kind", "NodeMetrics"},
          {"apiVersion", "metrics.k8s.io/v1beta1"},
          {"metadata", MetadataFor(node, now, false)},
          {"timestamp", FormatRFC3339(usage.timestamp)},
          {"window", Window()},
          {"usage", {{"cpu", FormatCPU(usage.cpu_nanocores)}, {"memory", FormatMemory(usage.memory_bytes)}}}};
}

Json PodMetricsObject(const PodUsage& usage, const Json& pod, TimePoint now) {
  Json containers = Json::array();
  for (const auto& c : usage.containers) {
    containers.push_back({{"name", c.name},
                          {"usage", {{"cpu", FormatCPU(c.cpu_nanocores)}, {"memory", FormatMemory(c.memory_bytes)}}}});
  }
  return {{"kind", "PodMetrics"},
          {"apiVersion", "metrics.k8s.io/v1beta1"},
          {"metadata", MetadataFor(pod, now, true)},
          {"timestamp", FormatRFC3339(usage.timestamp)},
          {"window", Window()},
          {"containers", containers}};
}

}  // namespace kubes::metrics
