// Informer — a local copy of one resource kept current by list + watch, with
// callbacks on every change (upstream: client-go tools/cache SharedIndexInformer,
// Reflector and the thread-safe store; STYLE.md's controller shape builds on it).
//
// Run() lists the resource, then watches from the list's resourceVersion; when the
// watch ends it resumes from the last seen revision, and when that is too old (410)
// it lists again. Handlers run on the informer's thread, in event order; they should
// only enqueue keys (see WorkQueue) and never block.
//
// Thread-safety: Get/List may be called from any thread while Run is going.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "client/client.h"

namespace kubes::client {

class Informer {
 public:
  struct Handlers {
    std::function<void(const Json& obj)> on_add;
    std::function<void(const Json& old_obj, const Json& new_obj)> on_update;
    std::function<void(const Json& obj)> on_delete;
  };

  Informer(Client* client, Resource resource, std::string ns = "");
  void AddHandlers(Handlers h);
  // Watch only objects matching these selectors (before Run), as the kubelet watches
  // only the pods bound to its node (fieldSelector spec.nodeName=N).
  void SetSelectors(std::string label_selector, std::string field_selector) {
    label_selector_ = std::move(label_selector);
    field_selector_ = std::move(field_selector);
  }

  // Blocks until stop is set.
  void Run(const std::atomic<bool>& stop);
  bool HasSynced() const { return synced_; }

  // "ns/name" (or "name" for cluster-scoped) → object.
  bool Get(const std::string& key, Json* out) const;
  std::vector<Json> List() const;
  const Resource& resource() const { return resource_; }

  static std::string KeyOf(const Json& obj);

 private:
  Status ListAndWatch(const std::atomic<bool>& stop);
  void Apply(const std::string& type, const Json& obj);

  Client* client_;
  Resource resource_;
  std::string namespace_;
  std::string label_selector_, field_selector_;
  std::vector<Handlers> handlers_;
  mutable std::mutex mu_;
  std::map<std::string, Json> items_;
  std::string resource_version_;
  std::atomic<bool> synced_{false};
};

}  // namespace kubes::client
