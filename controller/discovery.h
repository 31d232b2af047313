// The resources a controller can see, found through the discovery API (upstream:
// client-go discovery + restmapper). Controllers that handle every resource — the
// garbage collector, the namespace controller — use it.
#pragma once

#include <string>
#include <vector>

#include "client/client.h"

namespace kubes::controller {

using Json = nlohmann::json;

struct DiscoveredResource {
  client::Resource resource;  // group, version, resource, namespaced, kind
  std::vector<std::string> verbs;
  bool Can(const std::string& verb) const;
};

// Every resource (not subresource) of the preferred version of each group.
Result<std::vector<DiscoveredResource>> DiscoverResources(client::Client& c);


}  // namespace kubes::controller
