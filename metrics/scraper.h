// Scraper — asks nodes' kubelets how much CPU and memory their pods use (upstream:
// metrics-server's scraper, pkg/scraper, which asks every node's kubelet on a timer).
//
// kubes asks on demand instead of on a timer: a metrics.k8s.io request names the nodes
// it needs, and each node's answer (its /stats/summary) is kept for kCacheTTL, so
// `kubectl top` every second and an autoscaler every few seconds cost one request per
// node per 10 s. The kubelet itself measures continuously (kubelet/stats.h), so an
// answer is never older than the kubelet's last reading plus the TTL.
//
// The kubelet is reached through the same function the apiserver uses for pods/log and
// exec (Endpoints::NodeProxy): the in-process kubelet of `kubes server`, or an agent's
// kubelet over HTTPS. Only Ready nodes are asked; nodes are asked in parallel; a node
// that fails is remembered as failed for the TTL too (and logged), so a broken node
// does not slow every request down.
//
// Thread-safety: Scrape may be called from many request threads at once; one scrape of
// stale nodes runs at a time, and the others wait for its answers.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apiserver/request.h"
#include "metrics/summary.h"
#include "util/time.h"

namespace kubes::metrics {

class Scraper {
 public:
  static constexpr std::chrono::seconds kCacheTTL{10};
  // Sends a request to the kubelet of a node (the apiserver's node proxy).
  using Kubelet = std::function<apiserver::Response(const std::string& node, apiserver::Request& req)>;

  explicit Scraper(Kubelet kubelet, const Clock& clock = RealClock::Get());

  // The summaries of these Node objects that are Ready and answered (now or within the
  // TTL), by node name.
  std::map<std::string, NodeSummary> Scrape(const std::vector<Json>& nodes);

  // True when the node's Ready condition is True.
  static bool IsReady(const Json& node);

 private:
  struct Entry {
    TimePoint fetched;
    std::optional<NodeSummary> summary;  // nullopt: the kubelet did not answer well
  };
  Result<NodeSummary> ScrapeOne(const std::string& node);

  Kubelet kubelet_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, Entry> cache_;
};

}  // namespace kubes::metrics
