// SharedInformers — one Informer per resource for every component of a process
// (upstream: client-go informers.SharedInformerFactory, which kube-controller-manager
// hands to all of its controllers).
//
// Without it, each controller lists and watches what it needs itself, and a process
// running the scheduler and five controllers holds five copies of every Pod. With it,
// components ask For(resource) while they are being set up, add their handlers (which
// still only enqueue keys into each component's own WorkQueue), and read the one store.
// The informers cover all namespaces and use no selectors. In `kubes server` they hold
// the apiserver cache's own objects (which carry no managedFields); over HTTP they
// strip metadata.managedFields from the objects they parse (see StripManagedFields).
//
//   SharedInformers informers(&client);
//   Scheduler scheduler(&scheduler_client, &informers);   // calls informers.For(kPods) …
//   informers.Start(stop);          // one thread per informer
//   scheduler.Run(stop);            // waits for its informers to sync, then works
//   …  stop = true; informers.Join();
//
// Thread-safety: For, then Start, from one thread (the one setting components up).
// For after Start is a programming error (the new informer would never run) and aborts
// the process. WaitForSync and the informers' Get/List/HasSynced from any thread once
// started; Join after stop is set.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "client/client.h"
#include "client/informer.h"

namespace kubes::client {

class SharedInformers {
 public:
  // Every informer lists and watches through client (the identity they read as).
  explicit SharedInformers(Client* client);
  ~SharedInformers();  // REQUIRES: stopped and joined, or never started
  SharedInformers(const SharedInformers&) = delete;
  SharedInformers& operator=(const SharedInformers&) = delete;

  // The informer of r, made on the first call (the same one for every caller); never
  // null. REQUIRES: before Start.
  Informer* For(const Resource& r);

  // Runs every informer on a thread of its own until stop is set. REQUIRES: once.
  void Start(const std::atomic<bool>& stop);
  // Waits until every informer has listed once; false when stop came first.
  bool WaitForSync(const std::atomic<bool>& stop) const;
  // Waits for the informers' threads to end. REQUIRES: stop set (or never started).
  void Join();

 private:
  Client* client_;
  std::map<Resource, std::unique_ptr<Informer>> informers_;
  std::vector<std::thread> threads_;
  bool started_ = false;
};

}  // namespace kubes::client
