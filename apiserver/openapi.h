// OpenAPI v3 documents, generated from the schema registry and the resource registry.
//
// kubectl reads them for three things (docs/kubectl-protocol.md §5 and §7 in shared/):
// `kubectl explain` (components.schemas with x-kubernetes-group-version-kind),
// apply validation (a PATCH operation per kind that declares the fieldValidation
// query parameter), and strategic-merge-patch metadata (x-kubernetes-patch-merge-key
// and -strategy on list fields). Mirrors kube-apiserver's /openapi/v3 handler
// (k8s.io/kube-openapi/pkg/handler3).
//
// Thread-safety: documents are built on first use and cached; the cache is rebuilt
// when the resource registry changes (CRDs). All methods may be called concurrently.
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "apiserver/registry/resource.h"
#include "apiserver/request.h"

namespace kubes::apiserver {

class OpenAPI {
 public:
  explicit OpenAPI(const Registry* registry) : registry_(registry) {}

  // GET /openapi/v3 and /openapi/v3/<api/v1 | apis/g/v>.
  Response Serve(const Request& req);

 private:
  struct Cache {
    uint64_t generation = 0;
    std::map<std::string, std::string> docs;   // "apis/apps/v1" -> document JSON
    std::map<std::string, std::string> hashes;
    std::string index;
  };
  void Rebuild();

  const Registry* registry_;
  std::mutex mu_;
  Cache cache_;
};

// The OpenAPI schema of one custom resource version given its CRD schema (used by the
// generator and by custom resource validation). Exposed for tests.
nlohmann::json BuildGroupVersionDocument(const Registry& registry, const std::string& group, const std::string& version);

}  // namespace kubes::apiserver
