// NamespaceController — empties a namespace that is being deleted, then lets it go
// (upstream: pkg/controller/namespace, NamespaceController + NamespacedResourcesDeleter).
//
// `kubectl delete ns x` only marks the namespace (deletionTimestamp, phase Terminating):
// its spec.finalizers still holds "kubernetes". SyncNamespace deletes every object in
// the namespace, resource by resource, and waits until they are all gone (their own
// finalizers and the garbage collector may take a while). Then it removes "kubernetes"
// through the namespace's `finalize` subresource, and the apiserver deletes the
// namespace.
//
// Thread-safety: Run owns its threads; construct, Run (blocks), stop via the flag.
#pragma once

#include <atomic>
#include <map>

#include "client/client.h"
#include "client/informer.h"
#include "client/workqueue.h"

namespace kubes::controller {

class NamespaceController {
 public:
  explicit NamespaceController(client::Client* c);
  void Run(const std::atomic<bool>& stop);
  // One pass over namespace `name`; OK when there is nothing more to do for now.
  Status SyncNamespace(const std::string& name);

 private:
  Status UpdateConditions(const nlohmann::json& ns, const std::map<std::string, int>& per_resource,
                          const std::map<std::string, int>& per_finalizer);

  client::Client* client_;
  client::Informer namespaces_;
  client::WorkQueue queue_;
};

}  // namespace kubes::controller
