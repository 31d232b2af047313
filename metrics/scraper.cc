#include "metrics/scraper.h"

#include <cstdio>
#include <future>

namespace kubes::metrics {

Scraper::Scraper(Kubelet kubelet, const Clock& clock) : kubelet_(std::move(kubelet)), clock_(clock) {}

bool Scraper::IsReady(const Json& node) {
  const Json& status = node.value("status", Json::object());
  if (!status.is_object()) return false;
  for (const auto& c : status.value("conditions", Json::array())) {
    if (c.is_object() && c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

Result<NodeSummary> Scraper::ScrapeOne(const std::string& node) {
  apiserver::Request req;
  req.method = "GET";
  req.path = "/stats/summary";
  req.query.emplace("only_cpu_and_memory", "true");  // what metrics-server asks for
  req.headers["accept"] = "application/json";
  apiserver::Response resp = kubelet_(node, req);
  if (resp.stream || resp.upgrade) return Internal("unexpected streamed answer");
  if (resp.code != 200) {
    return Status(Code::kServiceUnavailable, "HTTP " + std::to_string(resp.code) + ": " + resp.body.substr(0, 200));
  }
  auto summary = ParseSummary(resp.body);
  if (!summary.ok()) return summary.status();
  if (summary->node_name != node) return BadRequest("the summary is about node " + summary->node_name);
  return summary;
}

std::map<std::string, NodeSummary> Scraper::Scrape(const std::vector<Json>& nodes) {
  std::lock_guard<std::mutex> lock(mu_);
  TimePoint now = clock_.Now();
  // Answers of nodes nobody asked about for a while (deleted nodes) are dropped.
  std::erase_if(cache_, [&](const auto& kv) { return now - kv.second.fetched > 10 * kCacheTTL; });
  std::vector<std::string> wanted, stale;
  for (const Json& n : nodes) {
    if (!IsReady(n)) continue;
    std::string name = n.value("metadata", Json::object()).value("name", "");
    if (name.empty()) continue;
    wanted.push_back(name);
    auto it = cache_.find(name);
    if (it == cache_.end() || now - it->second.fetched >= kCacheTTL) stale.push_back(name);
  }
  // Stale nodes are asked all at once; each call blocks only its own thread.
  std::vector<std::future<Result<NodeSummary>>> answers;
  for (const auto& name : stale) {
    answers.push_back(std::async(std::launch::async, [this, name] { return ScrapeOne(name); }));
  }
  for (size_t i = 0; i < stale.size(); ++i) {
    Result<NodeSummary> r = answers[i].get();
    Entry& e = cache_[stale[i]];
    e.fetched = now;
    if (r.ok()) {
      e.summary = std::move(r).value();
    } else {
      e.summary.reset();
      std::fprintf(stderr, "metrics: unable to fetch metrics from node %s: %s\n", stale[i].c_str(),
                   r.status().message().c_str());
    }
  }
  std::map<std::string, NodeSummary> out;
  for (const auto& name : wanted) {
    const Entry& e = cache_[name];
    if (e.summary) out.emplace(name, *e.summary);
  }
  return out;
}

}  // namespace kubes::metrics
