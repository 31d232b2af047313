// DisruptionController — keeps every PodDisruptionBudget's status current, which is
// what the eviction API (apiserver/endpoints/eviction.cc) consults before it lets a
// pod go (upstream: pkg/controller/disruption).
//
// For one budget, SyncBudget(key) computes:
//   expectedPods    minAvailable as a number: the pods the selector matches; otherwise
//                   the sum of the scales of their controllers (a ReplicaSet's
//                   Deployment, the ReplicaSet, a StatefulSet, a ReplicationController)
//   desiredHealthy  minAvailable (a number, or a percentage of expectedPods rounded up),
//                   or expectedPods - maxUnavailable (rounded up)
//   currentHealthy  selected pods that are Ready, not being deleted, and not in
//                   disruptedPods (evictions the apiserver allowed in the last 2 minutes)
//   disruptionsAllowed = currentHealthy - desiredHealthy (never below 0; 0 when no pod
//                   is expected)
// and the DisruptionAllowed condition (SufficientPods / InsufficientPods, SyncFailed
// when the expected count cannot be known, e.g. a pod without a controller).
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

class DisruptionController {
 public:
  // An eviction not followed by the pod's deletion within this time is forgotten.
  static constexpr std::chrono::minutes kDeletionTimeout{2};

  // pods and budgets: informers over all namespaces, run by the caller.
  DisruptionController(client::Client* c, client::Informer& pods, client::Informer& budgets,
                       const Clock& clock = RealClock::Get());
  void Run(const std::atomic<bool>& stop);

  // key: "namespace/name" of a PodDisruptionBudget.
  Status SyncBudget(const std::string& key);

 private:
  void EnqueueBudgetsFor(const Json& pod);
  // The replicas the selected pods' controllers want, summed once per controller.
  Result<int32_t> ExpectedScale(const Json& pdb, const std::vector<Json>& pods);
  Status FailSafe(const Json& pdb, const std::string& why);
  // Writes status with its DisruptionAllowed condition (`failed`: the SyncFailed one).
  Status WriteStatus(const Json& pdb, Json status, std::optional<Json> failed = std::nullopt);

  client::Client* client_;
  client::Informer& pods_;
  client::Informer& budgets_;
  const Clock& clock_;
  client::WorkQueue queue_;
  client::EventRecorder recorder_;
};

}  // namespace kubes::controller
