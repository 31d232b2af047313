#include "apiserver/request_info.h"

namespace kubes::apiserver {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

RequestInfo ParseRequestInfo(const Request& req) {
  RequestInfo info;
  std::vector<std::string> p = SplitPath(req.path);
  if (p.empty() || (p[0] != "api" && p[0] != "apis")) return info;
  info.prefix = p[0];
  size_t i = 1;
  if (info.prefix == "api") {
    if (p.size() < 2) {
      info.parts = p;
      return info;
    }
    info.version = p[1];
    i = 2;
  } else {
    if (p.size() < 3) {
      info.parts = p;
      return info;
    }
    info.group = p[1];
    info.version = p[2];
    i = 3;
  }
  std::vector<std::string> rest(p.begin() + i, p.end());
  if (rest.empty()) {
    info.parts = p;
    return info;
  }
  info.is_resource_request = true;
  // /namespaces/{ns}/{resource}... is namespaced; /namespaces/{name} and
  // /namespaces/{name}/status|finalize are the namespace object itself.
  if (rest[0] == "namespaces" && rest.size() > 1) {
    info.namespace_ = rest[1];
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize") rest.erase(rest.begin(), rest.begin() + 2);
  }
  info.resource = rest[0];
  if (rest.size() >= 2) info.name = rest[1];
  if (rest.size() >= 3) info.subresource = rest[2];
  for (size_t k = 3; k < rest.size(); ++k) info.subresource += "/" + rest[k];

  bool is_watch = req.QueryBool("watch");
  if (req.method == "GET" || req.method == "HEAD") {
    info.verb = is_watch ? "watch" : info.name.empty() ? "list" : "get";
  } else if (req.method == "POST") {
    info.verb = "create";
  } else if (req.method == "PUT") {
    info.verb = "update";
  } else if (req.method == "PATCH") {
    info.verb = "patch";
  } else if (req.method == "DELETE") {
    info.verb = info.name.empty() ? "deletecollection" : "delete";
  } else {
    info.verb = "unknown";
  }
  return info;
}

}  // namespace kubes::apiserver
