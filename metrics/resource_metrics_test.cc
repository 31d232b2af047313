// The metrics.k8s.io handler against fake nodes, pods and kubelets: selection, errors
// worded as metrics-server's, the per-node cache, and nodes that are not Ready or fail.
#include "metrics/resource_metrics.h"

#include <gtest/gtest.h>

namespace kubes::metrics {
namespace {

using apiserver::Request;
using apiserver::RequestInfo;
using apiserver::Response;

class FakeClock : public Clock {
 public:
  TimePoint Now() const override { return now; }
  TimePoint now = *ParseRFC3339("2024-05-01T10:00:20Z");
};

Json Node(const std::string& name, bool ready) {
  return {{"metadata", {{"name", name}, {"labels", {{"zone", name == "n1" ? "a" : "b"}}}}},
          {"status", {{"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
}

Json Pod(const std::string& ns, const std::string& name, const std::string& node, const std::string& app) {
  return {{"metadata", {{"name", name}, {"namespace", ns}, {"uid", "uid-" + name}, {"labels", {{"app", app}}}}},
          {"spec", {{"nodeName", node}}}};
}

// The summary a kubelet on `node` gives for these pods (every container at 5m, 10Mi).
std::string Summary(const std::string& node, const std::vector<Json>& pods) {
  Json items = Json::array();
  for (const Json& p : pods) {
    if (p["spec"]["nodeName"] != node) continue;
    items.push_back({{"podRef", {{"name", p["metadata"]["name"]}, {"namespace", p["metadata"]["namespace"]},
                                 {"uid", p["metadata"]["uid"]}}},
                     {"containers", {{{"name", "app"},
                                      {"cpu", {{"time", "2024-05-01T10:00:15Z"}, {"usageNanoCores", 5000000}}},
                                      {"memory", {{"workingSetBytes", 10 << 20}}}}}}});
  }
  return Json({{"node", {{"nodeName", node},
                         {"cpu", {{"time", "2024-05-01T10:00:15Z"}, {"usageNanoCores", 250000000}}},
                         {"memory", {{"workingSetBytes", 1 << 30}}}}},
               {"pods", items}})
      .dump();
}

class ResourceMetricsTest : public ::testing::Test {
 protected:
  ResourceMetricsTest() {
    nodes_ = {Node("n1", true), Node("n2", true), Node("n3", false)};
    pods_ = {Pod("default", "web-1", "n1", "web"), Pod("default", "web-2", "n2", "web"),
             Pod("default", "db", "n1", "db"), Pod("other", "web-3", "n1", "web"),
             Pod("default", "stuck", "n3", "web")};
    Sources sources;
    sources.nodes = [this] { return nodes_; };
    sources.pods = [this](const std::string& ns) {
      std::vector<Json> out;
      for (const Json& p : pods_) {
        if (ns.empty() || p["metadata"]["namespace"] == ns) out.push_back(p);
      }
      return out;
    };
    auto kubelet = [this](const std::string& node, Request& req) {
      calls_[node]++;
      Response r;
      EXPECT_EQ(req.path, "/stats/summary");
      if (failing_.count(node)) {
        r.code = 503;
        r.body = "down";
        return r;
      }
      r.body = Summary(node, kubelet_pods_.empty() ? pods_ : kubelet_pods_);
      return r;
    };
    api_ = std::make_unique<ResourceMetricsAPI>(sources, kubelet, clock_);
  }

  // GET path with an optional query; the request info as ParseRequestInfo would make it.
  Result<std::string> Get(const std::string& resource, const std::string& ns, const std::string& name,
                          std::map<std::string, std::string> query = {}, const std::string& accept = "") {
    Request req;
    req.method = "GET";
    for (auto& [k, v] : query) req.query.emplace(k, v);
    if (!accept.empty()) req.headers["accept"] = accept;
    RequestInfo info;
    info.is_resource_request = true;
    info.group = "metrics.k8s.io";
    info.version = "v1beta1";
    info.resource = resource;
    info.namespace_ = ns;
    info.name = name;
    info.verb = name.empty() ? "list" : "get";
    return api_->Serve(req, info);
  }

  static std::vector<std::string> Names(const std::string& body) {
    std::vector<std::string> out;
    Json list = Json::parse(body);
    for (const auto& item : list["items"]) {
      std::string ns = item["metadata"].value("namespace", "");
      out.push_back((ns.empty() ? "" : ns + "/") + item["metadata"]["name"].get<std::string>());
    }
    return out;
  }

  FakeClock clock_;
  std::vector<Json> nodes_, pods_, kubelet_pods_;
  std::map<std::string, int> calls_;
  std::set<std::string> failing_;
  std::unique_ptr<ResourceMetricsAPI> api_;
};

TEST_F(ResourceMetricsTest, ListsPodsBySelectorAndNamespace) {
  auto all = Get("pods", "", "");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  // stuck's node is not Ready: no figures, no item.
  EXPECT_EQ(Names(*all), (std::vector<std::string>{"default/db", "default/web-1", "default/web-2", "other/web-3"}));
  Json list = Json::parse(*all);
  EXPECT_EQ(list["kind"], "PodMetricsList");
  EXPECT_EQ(list["apiVersion"], "metrics.k8s.io/v1beta1");
  EXPECT_EQ(list["items"][0]["containers"][0]["usage"], Json({{"cpu", "5m"}, {"memory", "10Mi"}}));
  EXPECT_EQ(list["items"][0]["window"], "15s");

  auto web = Get("pods", "default", "", {{"labelSelector", "app=web"}});
  ASSERT_TRUE(web.ok());
  EXPECT_EQ(Names(*web), (std::vector<std::string>{"default/web-1", "default/web-2"}));
  auto by_name = Get("pods", "default", "", {{"fieldSelector", "metadata.name=db"}});
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(Names(*by_name), (std::vector<std::string>{"default/db"}));
  // Only the nodes of the selected pods are asked.
  calls_.clear();
  clock_.now += std::chrono::minutes(1);
  ASSERT_TRUE(Get("pods", "other", "").ok());
  EXPECT_EQ(calls_, (std::map<std::string, int>{{"n1", 1}}));
}

TEST_F(ResourceMetricsTest, GetAndItsErrors) {
  auto one = Get("pods", "default", "web-2");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(Json::parse(*one)["metadata"]["name"], "web-2");
  EXPECT_EQ(Json::parse(*one)["metadata"]["labels"]["app"], "web");

  auto missing = Get("pods", "default", "nope");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().message(), "podmetrics.metrics.k8s.io \"default/nope\" not found");
  EXPECT_EQ(Get("pods", "default", "stuck").status().code(), Code::kNotFound);
  auto node = Get("nodes", "", "n3");
  EXPECT_EQ(node.status().message(), "nodemetrics.metrics.k8s.io \"n3\" not found");

  EXPECT_EQ(Get("pods", "", "", {{"labelSelector", "a in (b"}}).status().code(), Code::kBadRequest);
  EXPECT_EQ(Get("pods", "", "", {{"fieldSelector", "spec.nodeName=n1"}}).status().code(), Code::kBadRequest);
  EXPECT_EQ(Get("services", "", "").status().code(), Code::kNotFound);
  Request req;
  RequestInfo watch;
  watch.group = "metrics.k8s.io";
  watch.version = "v1beta1";
  watch.resource = "pods";
  watch.verb = "watch";
  EXPECT_EQ(api_->Serve(req, watch).status().code(), Code::kMethodNotAllowed);
}

TEST_F(ResourceMetricsTest, NodesReadyOnlyWithTheirLabels) {
  auto list = Get("nodes", "", "");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(Names(*list), (std::vector<std::string>{"n1", "n2"}));
  Json n1 = Json::parse(*list)["items"][0];
  EXPECT_EQ(n1["usage"], Json({{"cpu", "250m"}, {"memory", "1Gi"}}));
  EXPECT_EQ(n1["metadata"]["labels"]["zone"], "a");
  EXPECT_EQ(n1["timestamp"], "2024-05-01T10:00:15Z");
  auto zone_b = Get("nodes", "", "", {{"labelSelector", "zone=b"}});
  ASSERT_TRUE(zone_b.ok());
  EXPECT_EQ(Names(*zone_b), (std::vector<std::string>{"n2"}));
  EXPECT_EQ(calls_.count("n3"), 0u) << "a node that is not Ready is not asked";
}

TEST_F(ResourceMetricsTest, AnswersAreCachedPerNode) {
  ASSERT_TRUE(Get("nodes", "", "").ok());
  ASSERT_TRUE(Get("pods", "", "").ok());
  EXPECT_EQ(calls_["n1"], 1);
  clock_.now += Scraper::kCacheTTL;
  ASSERT_TRUE(Get("nodes", "", "n1").ok());
  EXPECT_EQ(calls_["n1"], 2);
  EXPECT_EQ(calls_["n2"], 1);
}

TEST_F(ResourceMetricsTest, FailingKubeletLeavesItsNodeOut) {
  failing_.insert("n2");
  auto list = Get("pods", "default", "");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(Names(*list), (std::vector<std::string>{"default/db", "default/web-1"}));
  // Remembered as failed for the TTL: not asked again at once.
  ASSERT_TRUE(Get("nodes", "", "").ok());
  EXPECT_EQ(calls_["n2"], 1);
}

TEST_F(ResourceMetricsTest, RecreatedPodIsNotTheMeasuredOne) {
  kubelet_pods_ = pods_;
  pods_[0]["metadata"]["uid"] = "uid-new";  // web-1 deleted and made again
  auto list = Get("pods", "default", "", {{"labelSelector", "app=web"}});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(Names(*list), (std::vector<std::string>{"default/web-2"}));
}

TEST_F(ResourceMetricsTest, TableForKubectlGet) {
  auto t = Get("pods", "default", "", {{"labelSelector", "app=web"}}, "application/json;as=Table;v=v1;g=meta.k8s.io");
  ASSERT_TRUE(t.ok());
  Json table = Json::parse(*t);
  EXPECT_EQ(table["kind"], "Table");
  ASSERT_EQ(table["rows"].size(), 2u);
  EXPECT_EQ(table["rows"][0]["cells"], Json({"web-1", "5m", "10Mi", "15s"}));
  EXPECT_EQ(table["rows"][0]["object"]["metadata"]["name"], "web-1");
}

}  // namespace
}  // namespace kubes::metrics
