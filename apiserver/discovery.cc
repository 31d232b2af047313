#include "apiserver/discovery.h"

#include <algorithm>

#include "apiserver/endpoints/endpoints.h"

namespace kubes::apiserver {
namespace {

using Json = nlohmann::json;

const char* kAggregatedType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

// The kind a subresource's requests and responses carry, and its verbs.
struct SubresourceShape {
  std::string group, version, kind;
  std::vector<std::string> verbs;
};

SubresourceShape ShapeOf(const ResourceInfo& r, const std::string& sub) {
  if (sub == "status" || sub == "ephemeralcontainers") return {r.group, r.version, r.kind, {"get", "patch", "update"}};
  if (sub == "scale") return {"autoscaling", "v1", "Scale", {"get", "patch", "update"}};
  if (sub == "eviction") return {"policy", "v1", "Eviction", {"create"}};
  if (sub == "binding") return {"", "v1", "Binding", {"create"}};
  if (sub == "token") return {"authentication.k8s.io", "v1", "TokenRequest", {"create"}};
  if (sub == "log") return {"", "v1", "Pod", {"get"}};
  if (sub == "exec") return {"", "v1", "PodExecOptions", {"create", "get"}};
  if (sub == "attach") return {"", "v1", "PodAttachOptions", {"create", "get"}};
  if (sub == "portforward") return {"", "v1", "PodPortForwardOptions", {"create", "get"}};
  if (sub == "proxy") return {"", "v1", "NodeProxyOptions", {"create", "delete", "get", "patch", "update"}};
  if (sub == "finalize") return {r.group, r.version, r.kind, {"update"}};
  return {r.group, r.version, r.kind, {"get"}};
}

// The resources of one group version, sorted by name as upstream lists them (kubectl
// expands `get all` in this order).
std::vector<ResourcePtr> ResourcesOf(const Registry& reg, const std::string& group, const std::string& version) {
  std::vector<ResourcePtr> out;
  for (const auto& r : reg.All()) {
    if (r->group == group && r->version == version) out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const ResourcePtr& a, const ResourcePtr& b) { return a->resource < b->resource; });
  return out;
}

Json LegacyResource(const ResourceInfo& r) {
  Json j = {{"name", r.resource}, {"singularName", r.singular}, {"namespaced", r.namespaced},
            {"kind", r.kind}, {"verbs", r.verbs}};
  if (!r.short_names.empty()) j["shortNames"] = r.short_names;
  if (!r.categories.empty()) j["categories"] = r.categories;
  return j;
}

Json ResourceList(const Registry& reg, const std::string& group, const std::string& version) {
  Json resources = Json::array();
  for (const auto& r : ResourcesOf(reg, group, version)) {
    resources.push_back(LegacyResource(*r));
    for (const auto& sub : r->subresources) {
      SubresourceShape s = ShapeOf(*r, sub);
      Json j = {{"name", r->resource + "/" + sub}, {"singularName", ""}, {"namespaced", r->namespaced},
                {"kind", s.kind}, {"verbs", s.verbs}};
      if (s.group != group || s.version != version) {
        j["group"] = s.group;
        j["version"] = s.version;
      }
      resources.push_back(j);
    }
  }
  return {{"kind", "APIResourceList"}, {"apiVersion", "v1"},
          {"groupVersion", group.empty() ? version : group + "/" + version}, {"resources", resources}};
}

Json GroupJson(const std::string& group, const std::vector<std::string>& versions) {
  Json vs = Json::array();
  for (const auto& v : versions) vs.push_back({{"groupVersion", group + "/" + v}, {"version", v}});
  return {{"name", group}, {"versions", vs}, {"preferredVersion", vs[0]}};
}

Json AggregatedGroup(const Registry& reg, const std::string& group, const std::vector<std::string>& versions) {
  Json vs = Json::array();
  for (const auto& v : versions) {
    Json resources = Json::array();
    for (const auto& r : ResourcesOf(reg, group, v)) {
      Json j = {{"resource", r->resource},
                {"responseKind", {{"group", r->group}, {"version", r->version}, {"kind", r->kind}}},
                {"scope", r->namespaced ? "Namespaced" : "Cluster"},
                {"singularResource", r->singular},
                {"verbs", r->verbs}};
      if (!r->short_names.empty()) j["shortNames"] = r->short_names;
      if (!r->categories.empty()) j["categories"] = r->categories;
      if (!r->subresources.empty()) {
        Json subs = Json::array();
        for (const auto& sub : r->subresources) {
          SubresourceShape s = ShapeOf(*r, sub);
          subs.push_back({{"subresource", sub},
                          {"responseKind", {{"group", s.group}, {"version", s.version}, {"kind", s.kind}}},
                          {"verbs", s.verbs}});
        }
        j["subresources"] = subs;
      }
      resources.push_back(j);
    }
    vs.push_back({{"version", v}, {"resources", resources}, {"freshness", "Current"}});
  }
  return {{"metadata", {{"name", group}, {"creationTimestamp", nullptr}}}, {"versions", vs}};
}

Response Aggregated(const Registry& reg, bool legacy_core) {
  Json items = Json::array();
  for (const auto& [group, versions] : reg.Groups()) {
    if (group.empty() != legacy_core) continue;
    items.push_back(AggregatedGroup(reg, group, versions));
  }
  Response resp;
  resp.content_type = kAggregatedType;
  resp.body = Json({{"kind", "APIGroupDiscoveryList"}, {"apiVersion", "apidiscovery.k8s.io/v2"},
                    {"metadata", Json::object()}, {"items", items}})
                  .dump();
  resp.headers.emplace_back("Vary", "Accept");
  return resp;
}

Response WithVary(Response r) {
  r.headers.emplace_back("Vary", "Accept");
  return r;
}

}  // namespace

Response Discovery::Serve(const Request& req, const std::vector<std::string>& parts) const {
  bool wants_aggregated = req.Header("accept").find("as=APIGroupDiscoveryList") != std::string::npos &&
                          req.Header("accept").find("v=v2") != std::string::npos;
  if (parts.size() == 1 && parts[0] == "api") {
    if (wants_aggregated) return Aggregated(*registry_, true);
    return WithVary(JsonResponse(200, Json({{"kind", "APIVersions"}, {"versions", {"v1"}},
                                            {"serverAddressByClientCIDRs",
                                             {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address_}}}}})
                                          .dump()));
  }
  if (parts.size() == 1 && parts[0] == "apis") {
    if (wants_aggregated) return Aggregated(*registry_, false);
    Json groups = Json::array();
    for (const auto& [group, versions] : registry_->Groups()) {
      if (!group.empty()) groups.push_back(GroupJson(group, versions));
    }
    return WithVary(JsonResponse(200, Json({{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}}).dump()));
  }
  if (parts.size() == 2 && parts[0] == "api" && parts[1] == "v1") {
    return WithVary(JsonResponse(200, ResourceList(*registry_, "", "v1").dump()));
  }
  if (parts.size() == 2 && parts[0] == "apis") {
    for (const auto& [group, versions] : registry_->Groups()) {
      if (group == parts[1]) {
        Json g = GroupJson(group, versions);
        g["kind"] = "APIGroup";
        g["apiVersion"] = "v1";
        return WithVary(JsonResponse(200, g.dump()));
      }
    }
  }
  if (parts.size() == 3 && parts[0] == "apis") {
    for (const auto& [group, versions] : registry_->Groups()) {
      if (group != parts[1]) continue;
      for (const auto& v : versions) {
        if (v == parts[2]) return WithVary(JsonResponse(200, ResourceList(*registry_, group, v).dump()));
      }
    }
  }
  return ErrorResponse(Status(Code::kNotFound, "the server could not find the requested resource"));
}

}  // namespace kubes::apiserver
