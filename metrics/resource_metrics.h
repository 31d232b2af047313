// ResourceMetricsAPI — the resource metrics API, metrics.k8s.io/v1beta1, served by the
// apiserver itself (upstream: metrics-server, an aggregated API server whose pkg/api
// serves these two resources from what its scraper collected).
//
//   GET /apis/metrics.k8s.io/v1beta1/nodes[/{name}]                       NodeMetrics
//   GET /apis/metrics.k8s.io/v1beta1[/namespaces/{ns}]/pods[/{name}]      PodMetrics
//
// get and list only (no watch); labelSelector matches the labels of the Node or Pod the
// metrics are about, fieldSelector metadata.name and metadata.namespace. A list has an
// item for each selected node or pod whose kubelet reported complete figures; a get of
// one without figures is NotFound, as metrics-server answers ("podmetrics.metrics.k8s.io
// \"default/web\" not found"). A Table is returned when asked for (kubectl get
// podmetrics): NAME, CPU, MEMORY, WINDOW.
//
// Who uses it: `kubectl top node|pod` (which formats its own table from the JSON list)
// and the HorizontalPodAutoscaler controller (controller/podautoscaler, through the API
// like any client).
//
// The figures come from the kubelets through a Scraper; which nodes and pods exist comes
// from Sources, the apiserver's own view of the stored objects.
//
// Thread-safety: Serve may be called from many request threads at once.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apiserver/request.h"
#include "apiserver/request_info.h"
#include "metrics/scraper.h"
#include "util/status.h"
#include "util/time.h"

namespace kubes::metrics {

struct Sources {
  std::function<std::vector<Json>()> nodes;                      // every Node
  std::function<std::vector<Json>(const std::string& ns)> pods;  // the Pods of ns; "" = all namespaces
};

class ResourceMetricsAPI {
 public:
  ResourceMetricsAPI(Sources sources, Scraper::Kubelet kubelet, const Clock& clock = RealClock::Get());

  // The body of a 200 answer (JSON) to a request for the metrics.k8s.io group, or the
  // error to answer with (NotFound, BadRequest, MethodNotAllowed).
  Result<std::string> Serve(const apiserver::Request& req, const apiserver::RequestInfo& info);

 private:
  struct Selection;
  Result<std::string> ServeNodes(const apiserver::RequestInfo& info, const Selection& sel);
  Result<std::string> ServePods(const apiserver::RequestInfo& info, const Selection& sel);

  Sources sources_;
  Scraper scraper_;
  const Clock& clock_;
};

}  // namespace kubes::metrics
