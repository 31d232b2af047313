// Scheduler — kube-scheduler: gives every pod without a node a node (upstream:
// pkg/scheduler — scheduler.go, eventhandlers.go, schedule_one.go scheduleOne and
// handleSchedulingFailure, backend/queue for the retries; the default profile's
// plugins, see framework/plugins/plugins.h).
//
//   pod informer   bound pods            → Cache (their requests and ports count)
//                  our pending pods      → queue
//   node informer  nodes                 → Cache; a new or changed node retries the
//                                          unschedulable pods at once
//   loop           key → ScheduleOne: SchedulePod(pod, Cache snapshot)
//                    fits    → Cache.AssumePod, POST pods/NAME/binding,
//                              Normal event "Scheduled"
//                    doesn't → preemption, when it found a node: each victim gets
//                              DisruptionTarget (PreemptionByScheduler), is deleted
//                              gracefully and gets a Normal event "Preempted"; lower-
//                              priority pods nominated there lose their nomination
//                            → PodScheduled=False (reason Unschedulable) and
//                              status.nominatedNodeName through pods/status, Warning
//                              event "FailedScheduling", and a
//                              retry after 1 s, 2 s, 4 s, 8 s, 10 s, 10 s, ... or at
//                              once when a node appears or changes, a bound pod goes
//                              away, finishes or shrinks, or the pod's own spec changes
//
// "Our pods": spec.schedulerName is this scheduler's name (empty means
// "default-scheduler"), spec.nodeName is empty, the pod is not being deleted, not
// finished, and has no spec.schedulingGates. Pods with spec.nodeName set are never
// touched. One pod is scheduled at a time, in arrival order (upstream sorts by
// priority).
//
// The pod, node, claim, volume and PodDisruptionBudget informers are the process's shared ones (client::SharedInformers,
// as kube-controller-manager's controllers share theirs): the scheduler adds its
// handlers in the constructor, and whoever owns the informers starts them.
//
// Thread-safety: construct (before the shared informers start), Run (blocks until stop
// is set, using its own threads), destroy. The destructor flushes pending events for up
// to a second.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "client/client.h"
#include "client/informer.h"
#include "client/record.h"
#include "client/shared_informers.h"
#include "client/workqueue.h"
#include "scheduler/cache.h"
#include "scheduler/nominator.h"
#include "scheduler/schedule_one.h"

namespace kubes::scheduler {

class Scheduler {
 public:
  static constexpr std::chrono::seconds kInitialBackoff{1};
  static constexpr std::chrono::seconds kMaxBackoff{10};

  // client: for bindings, status and events, as the scheduler's own identity.
  // informers: pods and nodes come from there. REQUIRES: not started yet.
  Scheduler(client::Client* client, client::SharedInformers* informers,
            std::string scheduler_name = "default-scheduler");
  void Run(const std::atomic<bool>& stop);

  // One attempt for the pod "namespace/name". OK when there is nothing more to do
  // (bound, gone, not ours); Conflict when it fits nowhere now; another error when a
  // call failed. Either error means: try again after the backoff.
  Status ScheduleOne(const std::string& key);

  // Whether the pod is ours to schedule now (see the header comment).
  bool Responsible(const Json& pod) const;
  // How long to wait after `failures` failed attempts in a row (>= 1).
  static std::chrono::milliseconds PodBackoff(int failures);

 private:
  void OnPodAdd(const Json& pod);
  void OnPodUpdate(const Json& old_pod, const Json& pod);
  void OnPodDelete(const Json& pod);
  void OnNodeUpdate(const Json& old_node, const Json& node);
  // Every pod waiting after a failure is tried again now (upstream
  // MoveAllToActiveOrBackoffQueue, without waiting out the backoff).
  void MoveAllToActive();
  void ProcessNext(const std::string& key);
  Status Bind(const Json& pod, const std::string& node);
  // The FailedScheduling event and the PodScheduled=False condition; nominated_node,
  // when set, becomes status.nominatedNodeName ("" clears it) in the same patch.
  void RecordFailure(const Json& pod, const std::string& reason, const std::string& message,
                     std::optional<std::string> nominated_node = std::nullopt);
  // Carries out a preemption (upstream prepareCandidate): every victim gets the
  // DisruptionTarget condition, is deleted with its grace period and gets the
  // "Preempted" event; pods of lower priority nominated to the node lose the nomination.
  Status PrepareCandidate(const Json& preemptor, const Candidate& candidate);
  // The pod's claims and their volumes, for VolumeBinding (plugins.h).
  PodVolumes VolumesOf(const Json& pod) const;

  client::Client* client_;
  std::string name_;
  client::Informer* pods_;   // shared
  client::Informer* nodes_;  // shared
  client::Informer* claims_;   // shared: PersistentVolumeClaims
  client::Informer* volumes_;  // shared: PersistentVolumes
  client::Informer* pdbs_;     // shared: PodDisruptionBudgets
  client::WorkQueue queue_;
  Cache cache_;
  Nominator nominator_;
  std::mt19937_64 rng_;  // the scheduling loop's only

  std::mutex mu_;
  std::map<std::string, int> failures_;  // pod key → failed attempts in a row (= waiting to retry)

  client::EventRecorder recorder_;  // last: flushed first on destruction
};

}  // namespace kubes::scheduler
