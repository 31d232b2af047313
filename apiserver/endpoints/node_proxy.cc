// pods/log, pods/exec, pods/attach and pods/portforward: the apiserver finds the
// pod's node and container and hands the request to that node's kubelet (upstream:
// pkg/registry/core/pod/rest/log.go and subresources.go, LogLocation and
// ExecLocation, which build a URL on the kubelet and proxy to it).
#include "apiserver/endpoints/endpoints.h"
#include "apiserver/endpoints/target.h"
#include "util/strings.h"

namespace kubes::apiserver {
namespace {

std::vector<std::string> Names(const Json& list) {
  std::vector<std::string> out;
  for (const auto& c : list) out.push_back(c.value("name", ""));
  return out;
}

}  // namespace

Response Endpoints::ProxyToNode(const Request& req, const Target& t) {
  const ResourceInfo& r = *t.resource;
  if (t.subresource == "proxy") {
    return ErrorResponse(Status(Code::kMethodNotAllowed, "pods/proxy is not supported by kubes yet"));
  }
  if (t.subresource == "log" && req.method != "GET") return ErrorResponse(NewMethodNotSupported(r, req.method));
  auto obj = cacher_->Get(t.Key());
  if (!obj.ok()) return ErrorResponse(NewNotFound(r, t.name));
  const Json& pod = (*obj)->object;
  const Json& spec = pod.value("spec", Json::object());
  std::string node = spec.value("nodeName", "");
  if (node.empty()) return ErrorResponse(NewBadRequest("pod " + t.name + " does not have a host assigned"));

  Request out = req;
  out.query.erase("container");
  if (t.subresource == "portforward") {
    out.path = "/portForward/" + t.namespace_ + "/" + t.name;
  } else {
    // The container: as given, else the only one the pod has.
    std::string container = req.Query("container");
    std::vector<std::string> app = Names(spec.value("containers", Json::array()));
    std::vector<std::string> init = Names(spec.value("initContainers", Json::array()));
    std::vector<std::string> eph = Names(spec.value("ephemeralContainers", Json::array()));
    if (container.empty()) {
      if (app.size() == 1) {
        container = app[0];
      } else {
        std::string msg = "a container name must be specified for pod " + t.name + ", choose one of: [" +
                          Join(app, " ") + "]";
        if (!init.empty()) msg += " or one of the init containers: [" + Join(init, " ") + "]";
        if (!eph.empty()) msg += " or one of the ephemeral containers: [" + Join(eph, " ") + "]";
        return ErrorResponse(NewBadRequest(msg));
      }
    }
    auto has = [&](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), container) != v.end(); };
    if (!has(app) && !has(init) && !has(eph)) {
      return ErrorResponse(NewBadRequest("container " + container + " is not valid for pod " + t.name));
    }
    std::string kind = t.subresource == "log" ? "containerLogs" : t.subresource;
    out.path = "/" + kind + "/" + t.namespace_ + "/" + t.name + "/" + container;
  }
  if (!node_proxy_) {
    return ErrorResponse(Status(Code::kServiceUnavailable, "no kubelet is reachable for node " + node));
  }
  return node_proxy_(node, out);
}

}  // namespace kubes::apiserver
