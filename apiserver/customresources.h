// CustomResources — serves the kinds that CustomResourceDefinitions describe
// (upstream: k8s.io/apiextensions-apiserver: the naming and establishing
// controllers, the CRD finalizer and the custom resource handler).
//
// It follows every CRD: for each served version it registers a resource in the
// apiserver's Registry (so discovery, OpenAPI and the REST endpoints serve it at
// once), with the version's openAPIV3Schema for validation, pruning and defaulting,
// its subresources (status, scale) and its additionalPrinterColumns. It marks the CRD
// NamesAccepted and Established. When a CRD is deleted it first deletes every custom
// resource of it (the customresourcecleanup finalizer), then unregisters it.
//
// Thread-safety: Run is the one thread that changes CRD registrations.
#pragma once

#include <atomic>
#include <functional>
#include <set>
#include <string>

#include "apiserver/cacher.h"
#include "apiserver/registry/resource.h"
#include "apiserver/request.h"

namespace kubes::apiserver {

class CustomResources {
 public:
  using Handler = std::function<Response(Request&)>;
  CustomResources(Cacher* cacher, Registry* registry, Handler handler)
      : cacher_(cacher), registry_(registry), handler_(std::move(handler)) {}

  // Follows CRDs until stop is set.
  void Run(const std::atomic<bool>& stop);

  // Builds the resource of one served version of a CRD (exposed for tests).
  static ResourcePtr ResourceFor(const Json& crd, const Json& version);

 private:
  // Returns false when the CRD needs another look later (deletion in progress).
  bool Sync(const Json& crd);
  bool Cleanup(const Json& crd);
  Response Call(const std::string& method, const std::string& path, const Json& body);

  Cacher* cacher_;
  Registry* registry_;
  Handler handler_;
};

// The finalizer that makes a CRD wait until its custom resources are gone.
inline constexpr const char* kCRDCleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

}  // namespace kubes::apiserver
