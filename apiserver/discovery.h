// Discovery: /api, /apis, /api/v1, /apis/<group>[/<version>] — which resources the
// server has, their kinds, verbs, short names and categories.
//
// Serves both forms kubectl 1.32 understands (docs/kubectl-protocol.md §1 in shared/):
// the aggregated apidiscovery.k8s.io/v2 documents (one request for everything) and
// the legacy APIVersions / APIGroupList / APIResourceList objects. Mirrors
// k8s.io/apiserver/pkg/endpoints/discovery. Stateless apart from the registry it reads.
#pragma once

#include <string>

#include "apiserver/registry/resource.h"
#include "apiserver/request.h"

namespace kubes::apiserver {

class Discovery {
 public:
  Discovery(const Registry* registry, std::string server_address)
      : registry_(registry), server_address_(std::move(server_address)) {}

  // Answers a discovery path; `parts` are the path segments ("apis", "apps", "v1").
  Response Serve(const Request& req, const std::vector<std::string>& parts) const;

 private:
  const Registry* registry_;
  std::string server_address_;
};

}  // namespace kubes::apiserver
