// MetricsClient — how the autoscaler reads the CPU and memory use of a target's pods
// (upstream: pkg/controller/podautoscaler/metrics — MetricsClient and the resource
// metrics part of its REST client).
//
// The real one, RestMetricsClient, lists PodMetrics of metrics.k8s.io/v1beta1 through
// the API (as any client would; kubes serves that group from the kubelets' figures,
// metrics/). Tests give a fake. Custom and external metrics (custom.metrics.k8s.io,
// external.metrics.k8s.io) are not served by kubes, so they have no client here.
//
// Values are milli-units, as upstream's: millicores of CPU, thousandths of a byte of
// memory (Quantity.MilliValue()).
//
// Thread-safety: RestMetricsClient is as safe as its client::Client (stateless).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>

#include "apimachinery/labels/selector.h"
#include "client/client.h"
#include "util/status.h"
#include "util/time.h"

namespace kubes::controller::podautoscaler {

using Json = nlohmann::json;

struct PodMetric {
  TimePoint timestamp{};
  std::chrono::milliseconds window{0};
  int64_t value = 0;  // milli-units
};
// By pod name.
using PodMetricsInfo = std::map<std::string, PodMetric>;

struct ResourceMetrics {
  PodMetricsInfo metrics;
  TimePoint timestamp{};  // of the first item, as upstream reports it
};

class MetricsClient {
 public:
  virtual ~MetricsClient() = default;
  // The use of `resource` ("cpu", "memory") by each pod of namespace ns matching selector:
  // the sum over its containers, or only `container` when it is not "".
  virtual Result<ResourceMetrics> GetResourceMetric(const std::string& resource, const std::string& ns,
                                                    const labels::Selector& selector,
                                                    const std::string& container) = 0;
};

class RestMetricsClient : public MetricsClient {
 public:
  explicit RestMetricsClient(client::Client* client) : client_(client) {}
  Result<ResourceMetrics> GetResourceMetric(const std::string& resource, const std::string& ns,
                                            const labels::Selector& selector, const std::string& container) override;

 private:
  client::Client* client_;
};

// The figures of a PodMetricsList (the part of GetResourceMetric after the request).
Result<ResourceMetrics> ResourceMetricsFromList(const Json& list, const std::string& resource,
                                                const std::string& container);

// Go's time.ParseDuration for a metrics window ("15s", "1m0s", "10.5s", "500ms").
std::optional<std::chrono::milliseconds> ParseWindow(const std::string& s);

}  // namespace kubes::controller::podautoscaler
