// RequestInfo: what a URL path asks for (k8s.io/apiserver/pkg/endpoints/request/
// requestinfo.go). "/apis/apps/v1/namespaces/ns/deployments/web/scale" →
// {group apps, version v1, namespace ns, resource deployments, name web,
// subresource scale, verb get}. Pure function.
#pragma once

#include <string>

#include "apiserver/request.h"

namespace kubes::apiserver {

struct RequestInfo {
  bool is_resource_request = false;
  std::string prefix;       // "api" or "apis"
  std::string group;        // "" for core
  std::string version;
  std::string namespace_;
  std::string resource;
  std::string name;
  std::string subresource;
  // get, list, watch, create, update, patch, delete, deletecollection
  std::string verb;
  // Path segments after "/api" or "/apis" when not a resource request (discovery).
  std::vector<std::string> parts;
};

RequestInfo ParseRequestInfo(const Request& req);

// Splits "/a/b/c" into {"a","b","c"} (empty segments dropped).
std::vector<std::string> SplitPath(const std::string& path);

}  // namespace kubes::apiserver
