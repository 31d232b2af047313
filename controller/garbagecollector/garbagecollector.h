// GarbageCollector — deletes objects whose owners are gone, and carries out
// foreground and orphan deletion (upstream: pkg/controller/garbagecollector).
//
// It watches every resource that supports list and watch, and keeps a graph of
// ownerReferences: uid → the object's identity and owners, owner uid → dependents.
// Three kinds of work come out of it, each keyed by an object's uid:
//   - attemptToDelete: an object whose owners have all disappeared is deleted
//     (in the background, or in the foreground when an owner being deleted in the
//     foreground blocks on it); references to owners that are gone while others live
//     are removed.
//   - foreground: an owner with the "foregroundDeletion" finalizer gets its dependents
//     deleted; when none remain the finalizer is removed and the owner goes.
//   - orphan: an owner with the "orphan" finalizer has its ownerReference removed from
//     every dependent; then the finalizer is removed.
// Owners missing from the graph are checked against the apiserver before any delete,
// so a slow informer never causes a wrong deletion.
//
// Its informers keep metadata only (client::KeepMetadataOnly; upstream's GC uses
// metadata informers too): the graph needs nothing else. They are its own, not the
// process's shared ones, because the resources to follow are found by discovery while
// it runs (CRDs come and go); the CRD informer that triggers discovery is shared.
//
// Thread-safety: construct before the shared informers start; Run owns its threads;
// SyncObject may be called by the worker only; destroy after the shared informers
// have stopped.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "client/client.h"
#include "client/informer.h"
#include "client/shared_informers.h"
#include "client/workqueue.h"
#include "controller/discovery.h"

namespace kubes::controller {

class GarbageCollector {
 public:
  GarbageCollector(client::Client* c, client::SharedInformers* informers);
  void Run(const std::atomic<bool>& stop);
  // Looks at the object with this uid and does what the graph says it needs.
  Status SyncObject(const std::string& uid);

 private:
  struct Node {
    const DiscoveredResource* resource = nullptr;
    std::string namespace_, name, uid;
    Json owners = Json::array();  // metadata.ownerReferences
    bool deleting = false;
    std::set<std::string> finalizers;
  };

  void Observe(const DiscoveredResource* r, const Json& obj, bool deleted);
  Status AttemptToDelete(const Node& n);
  Status ProcessForeground(const Node& n);
  Status ProcessOrphan(const Node& n);
  // Whether the owner in ref (for a dependent in namespace ns) still exists.
  Result<bool> OwnerExists(const Json& ref, const std::string& ns);
  Status RemoveFinalizer(const Node& n, const std::string& finalizer);
  Status RemoveOwnerRefs(const Node& dependent, const std::set<std::string>& owner_uids);
  std::vector<Node> DependentsOf(const std::string& uid);

  client::Client* client_;
  void FollowNewResources(const std::atomic<bool>& stop, std::vector<std::thread>& threads);

  std::mutex resources_mu_;  // guards resources_ (informers_ is only touched by the discovery thread)
  std::vector<std::unique_ptr<DiscoveredResource>> resources_;
  std::vector<std::unique_ptr<client::Informer>> informers_;  // metadata only
  std::atomic<bool> crd_changed_{false};  // a CRD was added or changed: discover again soon
  client::WorkQueue queue_;
  std::mutex mu_;
  std::map<std::string, Node> nodes_;                          // uid → node
  std::map<std::string, std::set<std::string>> dependents_;    // owner uid → dependent uids
};

}  // namespace kubes::controller
