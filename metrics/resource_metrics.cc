#include "metrics/resource_metrics.h"

#include <algorithm>
#include <set>

#include "apimachinery/fields/selector.h"
#include "apimachinery/labels/selector.h"
#include "apimachinery/resource/quantity.h"

namespace kubes::metrics {

// What a list asks for: selectors and the answer's shape.
struct ResourceMetricsAPI::Selection {
  labels::Selector labels;
  fields::Selector fields;
  bool table = false;

  bool Matches(const Json& obj) const {
    const Json& meta = obj.value("metadata", Json::object());
    labels::Labels l;
    Json object_labels = meta.value("labels", Json::object());
    if (object_labels.is_object()) {
      for (const auto& [k, v] : object_labels.items()) {
        if (v.is_string()) l[k] = v.get<std::string>();
      }
    }
    fields::Fields f = {{"metadata.name", meta.value("name", "")}, {"metadata.namespace", meta.value("namespace", "")}};
    return labels.Matches(l) && fields.Matches(f);
  }
};

namespace {

constexpr const char* kGroup = "metrics.k8s.io";

Status NotFoundError(const std::string& resource, const std::string& name) {
  return Status(Code::kNotFound, resource + "." + kGroup + " \"" + name + "\" not found")
      .WithDetails({name, kGroup, resource, "", 0});
}

std::string NameOf(const Json& obj) { return obj.value("metadata", Json::object()).value("name", ""); }
std::string NamespaceOf(const Json& obj) { return obj.value("metadata", Json::object()).value("namespace", ""); }

// The sum of a usage over a PodMetrics' containers, for the table.
int64_t Sum(const Json& metrics, const char* resource, bool milli) {
  int64_t total = 0;
  for (const auto& c : metrics.value("containers", Json::array())) {
    Json q = c.value("usage", Json::object()).value(resource, Json());
    total += milli ? resource::QuantityMilliValue(q) : resource::QuantityValue(q);
  }
  return total;
}

// A metav1.Table of metrics objects (metrics-server's table columns).
std::string Table(const std::vector<Json>& items, bool pods) {
  Json columns = Json::array();
  for (const char* name : {"Name", "CPU", "Memory", "Window"}) {
    columns.push_back({{"name", name}, {"type", "string"}, {"format", std::string(name) == "Name" ? "name" : ""},
                       {"description", ""}, {"priority", 0}});
  }
  Json rows = Json::array();
  for (const Json& m : items) {
    std::string cpu, memory;
    if (pods) {
      cpu = FormatCPU(Sum(m, "cpu", true) * 1000000);
      memory = FormatMemory(Sum(m, "memory", false));
    } else {
      cpu = m["usage"].value("cpu", "");
      memory = m["usage"].value("memory", "");
    }
    rows.push_back({{"cells", {NameOf(m), cpu, memory, m.value("window", "")}},
                    {"object", {{"apiVersion", "meta.k8s.io/v1"}, {"kind", "PartialObjectMetadata"},
                                {"metadata", m["metadata"]}}}});
  }
  return Json({{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", Json::object()},
               {"columnDefinitions", columns}, {"rows", rows}})
      .dump();
}

std::string List(const char* kind, const std::vector<Json>& items) {
  return Json({{"kind", kind}, {"apiVersion", "metrics.k8s.io/v1beta1"}, {"metadata", Json::object()},
               {"items", items}})
      .dump();
}

}  // namespace

ResourceMetricsAPI::ResourceMetricsAPI(Sources sources, Scraper::Kubelet kubelet, const Clock& clock)
    : sources_(std::move(sources)), scraper_(std::move(kubelet), clock), clock_(clock) {}

Result<std::string> ResourceMetricsAPI::Serve(const apiserver::Request& req, const apiserver::RequestInfo& info) {
  bool known = info.version == "v1beta1" && (info.resource == "nodes" || info.resource == "pods");
  if (!known || !info.subresource.empty()) {
    return Status(Code::kNotFound, "the server could not find the requested resource");
  }
  if (info.verb != "get" && info.verb != "list") {
    return Status(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource");
  }
  Selection sel;
  if (req.HasQuery("labelSelector")) {
    auto l = labels::Parse(req.Query("labelSelector"));
    if (!l.ok()) return l.status();
    sel.labels = std::move(l).value();
  }
  if (req.HasQuery("fieldSelector")) {
    auto f = fields::ParseSelector(req.Query("fieldSelector"));
    if (!f.ok()) return f.status();
    KUBES_RETURN_IF_ERROR(fields::CheckDefaultFieldLabels(*f));
    sel.fields = std::move(f).value();
  }
  sel.table = req.Header("accept").find("as=Table") != std::string::npos;
  return info.resource == "nodes" ? ServeNodes(info, sel) : ServePods(info, sel);
}

Result<std::string> ResourceMetricsAPI::ServeNodes(const apiserver::RequestInfo& info, const Selection& sel) {
  std::vector<Json> nodes;
  for (Json& n : sources_.nodes()) {
    if (info.verb == "get" ? NameOf(n) == info.name : sel.Matches(n)) nodes.push_back(std::move(n));
  }
  std::map<std::string, NodeSummary> summaries = scraper_.Scrape(nodes);
  TimePoint now = clock_.Now();
  std::vector<Json> items;
  for (const Json& n : nodes) {
    auto it = summaries.find(NameOf(n));
    if (it != summaries.end() && it->second.node.known) items.push_back(NodeMetricsObject(it->second.node, n, now));
  }
  std::sort(items.begin(), items.end(), [](const Json& a, const Json& b) { return NameOf(a) < NameOf(b); });
  if (info.verb == "get") {
    if (items.empty()) return NotFoundError("nodemetrics", info.name);
    return items[0].dump();
  }
  return sel.table ? Table(items, false) : List("NodeMetricsList", items);
}

Result<std::string> ResourceMetricsAPI::ServePods(const apiserver::RequestInfo& info, const Selection& sel) {
  std::vector<Json> pods;
  for (Json& p : sources_.pods(info.namespace_)) {
    if (info.verb == "get" ? NameOf(p) == info.name : sel.Matches(p)) pods.push_back(std::move(p));
  }
  // Only the nodes these pods run on are asked.
  std::set<std::string> node_names;
  for (const Json& p : pods) node_names.insert(p.value("spec", Json::object()).value("nodeName", ""));
  std::vector<Json> nodes;
  for (Json& n : sources_.nodes()) {
    if (node_names.count(NameOf(n))) nodes.push_back(std::move(n));
  }
  std::map<std::string, NodeSummary> summaries = scraper_.Scrape(nodes);
  // The kubelets' figures by "namespace/name".
  std::map<std::string, const PodUsage*> usage;
  for (const auto& [node, s] : summaries) {
    for (const auto& p : s.pods) usage[p.namespace_ + "/" + p.name] = &p;
  }
  TimePoint now = clock_.Now();
  std::vector<Json> items;
  for (const Json& p : pods) {
    auto it = usage.find(NamespaceOf(p) + "/" + NameOf(p));
    if (it == usage.end()) continue;
    // A pod recreated under the same name is not the one the kubelet measured.
    std::string uid = p["metadata"].value("uid", "");
    if (!it->second->uid.empty() && !uid.empty() && it->second->uid != uid) continue;
    items.push_back(PodMetricsObject(*it->second, p, now));
  }
  std::sort(items.begin(), items.end(), [](const Json& a, const Json& b) {
    return std::make_pair(NamespaceOf(a), NameOf(a)) < std::make_pair(NamespaceOf(b), NameOf(b));
  });
  if (info.verb == "get") {
    if (items.empty()) return NotFoundError("podmetrics", info.namespace_ + "/" + info.name);
    return items[0].dump();
  }
  return sel.table ? Table(items, true) : List("PodMetricsList", items);
}

}  // namespace kubes::metrics
