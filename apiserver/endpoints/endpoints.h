// Endpoints — the REST verbs on resources: get, list, watch, create, update, patch,
// delete, deletecollection, and the status and scale subresources.
//
// Mirrors k8s.io/apiserver/pkg/endpoints/handlers (get.go, create.go, update.go,
// patch.go, delete.go, watch.go) over k8s.io/apiserver/pkg/registry/generic/registry
// (store.go: the create/update/delete flow with strategies, finalizers, graceful
// deletion). Every write goes through the same pipeline (admit.cc):
//
//   decode body → check apiVersion/kind → unknown fields (fieldValidation) →
//   metadata rules → defaults (per-kind, then schema) → prepare (status rules) →
//   admission (namespace lifecycle) → validation → store (compare-and-swap)
//
// Thread-safety: an Endpoints object is shared by all request threads; it holds no
// per-request state.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <mutex>

#include "api/schema.h"
#include "apiserver/admission/admission.h"
#include "apiserver/cacher.h"
#include "apiserver/registry/resource.h"
#include "apiserver/request.h"
#include "apiserver/request_info.h"
#include "util/time.h"

namespace kubes::apiserver {

class Endpoints {
 public:
  Endpoints(Cacher* cacher, Registry* registry, const api::SchemaRegistry* schemas, const Clock* clock,
            const std::string& service_cidr = "10.43.0.0/16")
      : cacher_(cacher), registry_(registry), schemas_(schemas), clock_(clock),
        admission_(admission::Chain::Default(service_cidr)), reader_(cacher, registry) {}

  // Serves a resource request (info.is_resource_request).
  Response Serve(const Request& req, const RequestInfo& info);

  // Where pods/log, exec, attach and portforward go: the kubelet of the pod's node
  // (in-process, or over the network for `kubes agent` nodes).
  using NodeProxy = std::function<Response(const std::string& node, Request& req)>;
  void SetNodeProxy(NodeProxy proxy) { node_proxy_ = std::move(proxy); }

  // Used by discovery-like callers and controllers.
  Registry* registry() const { return registry_; }
  Cacher* cacher() const { return cacher_; }

 private:
  struct Target;  // the resource and object a request is about (endpoints.cc)

  Response Get(const Request& req, const Target& t);
  Response List(const Request& req, const Target& t);
  Response Watch(const Request& req, const Target& t);
  Response Create(const Request& req, const Target& t);
  Response Update(const Request& req, const Target& t);
  Response Patch(const Request& req, const Target& t);
  Response Apply(const Request& req, const Target& t);
  Response Delete(const Request& req, const Target& t);
  Response DeleteCollection(const Request& req, const Target& t);
  Response Bind(const Request& req, const Target& t);  // pods/binding (binding.cc)
  Response Evict(const Request& req, const Target& t);  // pods/eviction (eviction.cc)
  Response ProxyToNode(const Request& req, const Target& t);  // node_proxy.cc

  // The shared write pipeline (admit.cc). `old` is null on create.
  Result<Json> AdmitCreate(const Request& req, const Target& t, Json obj, std::vector<std::string>& warnings);
  Result<Json> AdmitUpdate(const Request& req, const Target& t, Json obj, const Json& old,
                           std::vector<std::string>& warnings);
  // Records the write in metadata.managedFields (operation Update).
  Json TrackChange(const Request& req, const Target& t, const Json* old, const Json& obj);
  // Stores an admitted update; deletes the object instead when it was being deleted
  // and its last finalizer just went away.
  Result<ObjectPtr> StoreUpdate(const Target& t, Json obj, const ObjectPtr& old);
  // Deletes one object as DELETE does (finalizers, propagation, grace).
  Result<ObjectPtr> DeleteObject(const Target& t, const ObjectPtr& existing, const Json& options, bool dry_run,
                                 bool* deleted_now);

  Cacher* cacher_;
  Registry* registry_;
  const api::SchemaRegistry* schemas_;
  const Clock* clock_;
  admission::Chain admission_;
  admission::ObjectReader reader_;
  // Writes that allocate from a shared pool (Service IPs and ports) go one at a time.
  std::mutex allocation_mu_;
  NodeProxy node_proxy_;
};

// Encodes a failed Status as the response a client expects (metav1.Status JSON).
Response ErrorResponse(const Status& status);
// metav1.Status JSON for s (also used for watch ERROR events).
nlohmann::json StatusJson(const Status& s);
// A JSON response of an object with the given code.
Response JsonResponse(int code, std::string body);

// Upstream-worded errors about a resource.
Status NewNotFound(const ResourceInfo& r, const std::string& name);
Status NewAlreadyExists(const ResourceInfo& r, const std::string& name);
Status NewConflict(const ResourceInfo& r, const std::string& name, const std::string& why);
Status NewBadRequest(const std::string& message);
Status NewMethodNotSupported(const ResourceInfo& r, const std::string& verb);

}  // namespace kubes::apiserver
