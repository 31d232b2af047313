#include "controller/discovery.h"

#include <algorithm>

namespace kubes::controller {

bool DiscoveredResource::Can(const std::string& verb) const {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

Result<std::vector<DiscoveredResource>> DiscoverResources(client::Client& c) {
  const std::string accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
  std::vector<DiscoveredResource> out;
  for (const char* path : {"/api", "/apis"}) {
    auto doc = c.GetPath(path, accept);
    if (!doc.ok()) return doc.status();
    for (const auto& group : (*doc)["items"]) {
      std::string name = group["metadata"].value("name", "");
      const Json& versions = group["versions"];
      if (versions.empty()) continue;
      const Json& preferred = versions[0];
      for (const auto& r : preferred["resources"]) {
        DiscoveredResource d;
        d.resource = client::Resource{name, preferred.value("version", ""), r.value("resource", ""),
                                      r.value("scope", "") == "Namespaced", r["responseKind"].value("kind", "")};
        for (const auto& v : r.value("verbs", Json::array())) d.verbs.push_back(v.get<std::string>());
        out.push_back(std::move(d));
      }
    }
  }
  return out;
}


}  // namespace kubes::controller
