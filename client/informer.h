// Informer — a local copy of one resource kept current by list + watch, with
// callbacks on every change (upstream: client-go tools/cache SharedIndexInformer,
// Reflector and the thread-safe store; STYLE.md's controller shape builds on it).
//
// Run() lists the resource, then watches from the list's resourceVersion; when the
// watch ends it resumes from the last seen revision, and when that is too old (410)
// it lists again. Handlers run on the informer's thread, in event order; they should
// only enqueue keys (see WorkQueue) and never block.
//
// In `kubes server` the informers' objects are the apiserver cache's own parsed
// copies, shared (see client::ObjectPtr): 500 pods cost one parsed copy each, however
// many informers watch them. Over HTTP (`kubes agent`) each informer parses its own.
//
// A transform (upstream SetTransform) drops fields no handler reads, to save memory,
// from every object the informer owns: StripManagedFields drops what no controller
// reads and makes up a large part of every object; KeepMetadataOnly leaves what the
// garbage collector needs (upstream: its metadata-only informers). Objects shared with
// the apiserver's cache are stored as they are (dropping fields would cost a copy; the
// cache's parsed objects carry no managedFields anyway), so handlers must work with
// either shape.
//
// Several components may share one Informer (see SharedInformers): each adds its
// handlers, and they all read the one store.
//
// Indexes (upstream: Indexers) answer "which objects have this value" without a look
// over the whole store: a controller asks for the pods of one namespace, or the pods
// one ReplicaSet controls, and its sync costs what that set costs, not what the
// cluster holds (with 1,000 Deployments, a look over all pods per sync is O(n²)).
//
// Thread-safety: SetSelectors, SetTransform, AddIndex and AddHandlers before Run; Get,
// List, Snapshot, ByIndex and HasSynced from any thread while Run is going.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
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
  using ObjectPtr = client::ObjectPtr;
  // The values an object is filed under in one index (none: not in it).
  using IndexFunc = std::function<std::vector<std::string>(const Json& obj)>;
  // The two indexes controllers use (upstream: cache.NamespaceIndex and the
  // controllers' controllerUIDIndex).
  static constexpr const char* kNamespaceIndex = "namespace";
  // The uid of the object's controller (ownerReferences[controller=true]), or
  // "orphan/<namespace>" for an object that has none: a controller looks at what it
  // owns plus the orphans it may adopt.
  static constexpr const char* kControllerIndex = "controller";
  static std::string OrphansOf(const std::string& ns) { return "orphan/" + ns; }

  Informer(Client* client, Resource resource, std::string ns = "");
  // REQUIRES: before Run.
  void AddHandlers(Handlers h);
  // Watch only objects matching these selectors (before Run), as the kubelet watches
  // only the pods bound to its node (fieldSelector spec.nodeName=N).
  void SetSelectors(std::string label_selector, std::string field_selector) {
    label_selector_ = std::move(label_selector);
    field_selector_ = std::move(field_selector);
  }
  // Applied to every object the informer owns before it is stored and handed to
  // handlers (not to shared objects, see above). The object's metadata.namespace and
  // metadata.name must survive it (they are its key).
  // REQUIRES: before Run.
  void SetTransform(Transform t) { transform_ = std::move(t); }

  // Files every object under f's values, as index `name`. Adding an index of a name
  // that exists already does nothing (components sharing an informer each ask for
  // the ones they use). kNamespaceIndex and kControllerIndex need no function.
  // REQUIRES: before Run.
  void AddIndex(const std::string& name, IndexFunc f = nullptr);

  // Blocks until stop is set.
  void Run(const std::atomic<bool>& stop);
  bool HasSynced() const { return synced_; }

  // "ns/name" (or "name" for cluster-scoped) → object (a copy).
  bool Get(const std::string& key, Json* out) const;
  // The stored object itself (null when there is none).
  ObjectPtr Get(const std::string& key) const;
  // Copies of every object.
  std::vector<Json> List() const;
  // Every stored object itself, without copying one (upstream's store hands out
  // pointers the same way): for a look over all of them.
  std::vector<ObjectPtr> Snapshot() const;
  // For a handler that keeps the object it is given (a cache): the stored object
  // itself when obj is it — as it is in on_add, and the new object in on_update —
  // otherwise a copy of obj.
  ObjectPtr Shared(const Json& obj) const;
  // The stored objects filed under value in index `name` (empty for an unknown index).
  std::vector<ObjectPtr> ByIndex(const std::string& name, const std::string& value) const;
  const Resource& resource() const { return resource_; }

  static std::string KeyOf(const Json& obj);

 private:
  Status ListAndWatch(const std::atomic<bool>& stop);
  // The object to store: obj itself when shared, else obj transformed.
  ObjectPtr Prepare(const ObjectPtr& obj, bool shared) const;
  void Apply(bool deleted, const ObjectPtr& obj);
  // REQUIRES: mu_ held.
  void Reindex(const std::string& key, const Json* old_obj, const Json* new_obj);

  Client* client_;
  Resource resource_;
  std::string namespace_;
  std::string label_selector_, field_selector_;
  Transform transform_;
  std::vector<Handlers> handlers_;
  mutable std::mutex mu_;
  std::map<std::string, ObjectPtr> items_;
  struct Index {
    IndexFunc values;
    std::map<std::string, std::set<std::string>> keys;  // value → object keys
  };
  std::map<std::string, Index> indexes_;
  std::string resource_version_;
  std::atomic<bool> synced_{false};
};

}  // namespace kubes::client
