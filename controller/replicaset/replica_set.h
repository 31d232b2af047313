// ReplicaSetController — keeps spec.replicas pods running for every ReplicaSet
// (upstream: pkg/controller/replicaset).
//
// SyncReplicaSet(key) looks at the whole current state each time:
//  1. claim pods: the ReplicaSet's own pods that still match its selector, plus
//     matching orphans it adopts (ownerReferences, see ClaimObjects);
//  2. if the informer has caught up with the creates and deletes asked for last time
//     (Expectations), create the missing pods — in slow-start batches 1, 2, 4, … so a
//     template that cannot work fails once, not 500 times — or delete the surplus,
//     picking the least useful pods first (SortPodsForDeletion);
//  3. write status: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas
//     (ready for minReadySeconds), observedGeneration, and the ReplicaFailure condition
//     when a create or delete fails.
// Events: SuccessfulCreate, SuccessfulDelete, FailedCreate, FailedDelete as upstream.
//
// Thread-safety: Run owns its threads; construct, Run (blocks), stop via the flag.
#pragma once

#include <atomic>
#include <string>

#include "client/client.h"
#include "client/informer.h"
#include "client/record.h"
#include "client/workqueue.h"
#include "controller/controller_utils.h"
#include "util/time.h"

namespace kubes::controller {

class ReplicaSetController {
 public:
  // At most this many pods are created or deleted in one sync (upstream BurstReplicas).
  static constexpr int kBurstReplicas = 500;

  // pods and replicasets: informers over all namespaces, run by the caller (Run does not
  // start them).
  ReplicaSetController(client::Client* c, client::Informer& pods, client::Informer& replicasets,
                       const Clock& clock = RealClock::Get());
  void Run(const std::atomic<bool>& stop);

  // key: "namespace/name".
  Status SyncReplicaSet(const std::string& key);

 private:
  enum class PodEvent { kAdded, kUpdated, kDeleted };
  void OnPod(const Json& pod, PodEvent event);
  void EnqueueOwnersOrMatches(const Json& pod);
  Status ManageReplicas(const std::string& key, const Json& rs, std::vector<Json>& active);
  Status UpdateStatus(const Json& rs, const std::vector<Json>& pods, const Status& manage_error);

  client::Client* client_;
  client::Informer& pods_;
  client::Informer& replicasets_;
  const Clock& clock_;
  client::WorkQueue queue_;
  Expectations expectations_;
  client::EventRecorder recorder_;
  PodControl pod_control_;
};

}  // namespace kubes::controller
