#include "controller/podautoscaler/metrics_client.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "apimachinery/resource/quantity.h"

namespace kubes::controller::podautoscaler {
namespace {

const client::Resource kPodMetrics{"metrics.k8s.io", "v1beta1", "pods", true, "PodMetrics"};

// The usage of `resource` in one container's entry, if it reports it.
std::optional<int64_t> Usage(const Json& container, const std::string& resource) {
  const Json& usage = container.value("usage", Json::object());
  if (!usage.is_object() || !usage.contains(resource)) return std::nullopt;
  return resource::QuantityMilliValue(usage[resource]);
}

}  // namespace

std::optional<std::chrono::milliseconds> ParseWindow(const std::string& s) {
  if (s.empty()) return std::nullopt;
  double total_ms = 0;
  size_t i = 0;
  while (i < s.size()) {
    char* end = nullptr;
    double n = std::strtod(s.c_str() + i, &end);
    size_t used = static_cast<size_t>(end - (s.c_str() + i));
    if (used == 0 || !std::isfinite(n) || n < 0) return std::nullopt;
    i += used;
    size_t unit_end = i;
    while (unit_end < s.size() && std::isalpha(static_cast<unsigned char>(s[unit_end]))) ++unit_end;
    std::string unit = s.substr(i, unit_end - i);
    i = unit_end;
    if (unit == "h") total_ms += n * 3600000;
    else if (unit == "m") total_ms += n * 60000;
    else if (unit == "s") total_ms += n * 1000;
    else if (unit == "ms") total_ms += n;
    else if (unit == "us" || unit == "µs") total_ms += n / 1000;
    else if (unit == "ns") total_ms += n / 1000000;
    else return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms));
}

Result<ResourceMetrics> ResourceMetricsFromList(const Json& list, const std::string& resource,
                                                const std::string& container) {
  const Json& items = list.value("items", Json::array());
  if (!items.is_array() || items.empty()) return Internal("no metrics returned from resource metrics API");
  ResourceMetrics out;
  for (const Json& m : items) {
    if (!m.is_object()) continue;
    std::string name = m.value("metadata", Json::object()).value("name", "");
    PodMetric pm;
    pm.timestamp = ParseRFC3339(m.value("timestamp", "")).value_or(TimePoint{});
    pm.window = ParseWindow(m.value("window", "")).value_or(std::chrono::milliseconds(0));
    const Json& containers = m.value("containers", Json::array());
    bool missing = !containers.is_array() || containers.empty();
    int64_t sum = 0;
    bool found = false;
    for (size_t i = 0; !missing && i < containers.size(); ++i) {
      const Json& c = containers[i];
      if (!c.is_object() || (!container.empty() && c.value("name", "") != container)) continue;
      auto v = Usage(c, resource);
      if (!v) {
        missing = true;  // a container without the figure makes the pod's sum unknown
        break;
      }
      sum += *v;
      found = true;
    }
    // With a container named, a pod that does not have it has no figure.
    if (!missing && found) {
      pm.value = sum;
      out.metrics[name] = pm;
    }
  }
  out.timestamp = ParseRFC3339(items[0].value("timestamp", "")).value_or(TimePoint{});
  return out;
}

Result<ResourceMetrics> RestMetricsClient::GetResourceMetric(const std::string& resource, const std::string& ns,
                                                             const labels::Selector& selector,
                                                             const std::string& container) {
  auto list = client_->List(kPodMetrics, ns, selector.String());
  if (!list.ok()) return Internal("unable to fetch metrics from resource metrics API: " + list.status().message());
  return ResourceMetricsFromList(*list, resource, container);
}

}  // namespace kubes::controller::podautoscaler
