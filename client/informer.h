// Informer — a local copy of one resource kept current by list + watch, with
// callbacks on every change (upstream: client-go tools/cache SharedIndexInformer,
// Reflector and the thread-safe store; STYLE.md's controller shape builds on it).
//
// Run() lists the resource, then watches from the list's resourceVersion; when the
// watch ends it resumes from the last seen revision, and when that is too old (410)
// it lists again. Handlers run on the informer's thread, in event order; they should
// only enqueue keys (see WorkQueue) and never block.
//
// A transform (upstream SetTransform) rewrites every object before it is stored and
// before any handler sees it: StripManagedFields drops what no controller reads and
// makes up a large part of every object; KeepMetadataOnly leaves what the garbage
// collector needs (upstream: its metadata-only informers).
//
// Several components may share one Informer (see SharedInformers): each adds its
// handlers, and they all read the one store.
//
// Thread-safety: SetSelectors, SetTransform and AddHandlers before Run; Get, List and
// HasSynced from any thread while Run is going.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "client/client.h"

namespace kubes::client {

// Removes metadata.managedFields (upstream informers of kube-controller-manager do the
// same): no controller reads them, and writes that omit them keep the stored ones.
void StripManagedFields(Json& obj);
// Keeps only apiVersion, kind and metadata (without managedFields): the shape of
// upstream's PartialObjectMetadata.
void KeepMetadataOnly(Json& obj);

class Informer {
 public:
  struct Handlers {
    std::function<void(const Json& obj)> on_add;
    std::function<void(const Json& old_obj, const Json& new_obj)> on_update;
    std::function<void(const Json& obj)> on_delete;
  };
  using Transform = std::function<void(Json& obj)>;
  // Stored objects are immutable and shared: with handlers, with Snapshot's callers.
  using ObjectPtr = std::shared_ptr<const Json>;

  Informer(Client* client, Resource resource, std::string ns = "");
  // REQUIRES: before Run.
  void AddHandlers(Handlers h);
  // Watch only objects matching these selectors (before Run), as the kubelet watches
  // only the pods bound to its node (fieldSelector spec.nodeName=N).
  void SetSelectors(std::string label_selector, std::string field_selector) {
    label_selector_ = std::move(label_selector);
    field_selector_ = std::move(field_selector);
  }
  // Applied to every object before it is stored and handed to handlers. The object's
  // metadata.namespace and metadata.name must survive it (they are its key).
  // REQUIRES: before Run.
  void SetTransform(Transform t) { transform_ = std::move(t); }

  // Blocks until stop is set.
  void Run(const std::atomic<bool>& stop);
  bool HasSynced() const { return synced_; }

  // "ns/name" (or "name" for cluster-scoped) → object (a copy).
  bool Get(const std::string& key, Json* out) const;
  // Copies of every object.
  std::vector<Json> List() const;
  // Every stored object itself, without copying one (upstream's store hands out
  // pointers the same way): for a look over all of them.
  std::vector<ObjectPtr> Snapshot() const;
  // For a handler that keeps the object it is given (a cache): the stored object
  // itself when obj is it — as it is in on_add, and the new object in on_update —
  // otherwise a copy of obj.
  ObjectPtr Shared(const Json& obj) const;
  const Resource& resource() const { return resource_; }

  static std::string KeyOf(const Json& obj);

 private:
  Status ListAndWatch(const std::atomic<bool>& stop);
  ObjectPtr Prepare(Json obj) const;
  void Apply(bool deleted, const ObjectPtr& obj);

  Client* client_;
  Resource resource_;
  std::string namespace_;
  std::string label_selector_, field_selector_;
  Transform transform_;
  std::vector<Handlers> handlers_;
  mutable std::mutex mu_;
  std::map<std::string, ObjectPtr> items_;
  std::string resource_version_;
  std::atomic<bool> synced_{false};
};

}  // namespace kubes::client
