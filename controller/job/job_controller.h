// JobController — runs a Job's pods until enough of them succeed, or the Job fails
// (upstream: pkg/controller/job/job_controller.go, Kubernetes v1.32).
//
// SyncJob(key) looks at the whole current state each time (README.md has the state
// machine):
//  1. claim the Job's pods (ownerReferences; adopted orphans get the tracking
//     finalizer) and count: active, ready, terminating, and the finished pods not yet
//     in status (they still carry batch.kubernetes.io/job-tracking);
//  2. decide whether the Job is finishing: SuccessCriteriaMet (completions reached, or
//     spec.successPolicy met), or FailureTarget (backoffLimit exceeded, past
//     activeDeadlineSeconds, a FailJob rule of spec.podFailurePolicy, too many failed
//     indexes) — a finishing Job's active pods are deleted;
//  3. otherwise ManageJob: delete every pod of a suspended Job; create the missing
//     pods (after the pod-failure backoff, in slow-start batches; Indexed Jobs get one
//     pod per pending completion index) or delete the surplus;
//  4. TrackJobStatusAndRemoveFinalizers: write the finished pods' UIDs into
//     status.uncountedTerminatedPods, remove their finalizers, then move them into the
//     succeeded/failed counters — so each pod is counted exactly once even if the
//     controller restarts or the pod is deleted meanwhile; once nothing is uncounted
//     or terminating, add Complete or Failed after SuccessCriteriaMet/FailureTarget.
//
// A second queue removes the tracking finalizer from pods whose Job is gone or
// finished (upstream's orphan pod worker), so no pod is stuck in deletion.
// Events: SuccessfulCreate, FailedCreate, SuccessfulDelete, FailedDelete, Completed,
// BackoffLimitExceeded, DeadlineExceeded, PodFailurePolicy, Suspended, Resumed.
//
// Thread-safety: Run owns its threads; construct, Run (blocks), stop via the flag.
#pragma once

#include <atomic>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/informer.h"
#include "client/record.h"
#include "client/workqueue.h"
#include "controller/controller_utils.h"
#include "controller/job/job_utils.h"
#include "util/time.h"

namespace kubes::controller {

class JobController {
 public:
  // Pod events are folded into one sync per second per Job (upstream syncJobBatchPeriod).
  static constexpr std::chrono::seconds kSyncJobBatchPeriod{1};
  // At most this many finished pods wait in status.uncountedTerminatedPods.
  static constexpr int kMaxUncountedPods = 500;
  static constexpr int kMaxPodCreateDeletePerSync = 500;

  // pods and jobs: informers over all namespaces, run by the caller.
  JobController(client::Client* c, client::Informer& pods, client::Informer& jobs,
                const Clock& clock = RealClock::Get());
  void Run(const std::atomic<bool>& stop);

  // key: "namespace/name".
  Status SyncJob(const std::string& key);
  // Removes the tracking finalizer of a pod (key "namespace/name") no live Job tracks.
  Status SyncOrphanPod(const std::string& key);

 private:
  // What one SyncJob works with (upstream syncJobCtx).
  struct SyncContext {
    std::string key;
    Json job;  // the copy being updated; its status is what gets written
    std::vector<Json> pods;
    std::vector<Json> active_pods;
    std::optional<Json> finished_condition;
    int succeeded = 0, failed = 0, ready = 0, terminating = 0;
    job::OrderedIntervals prev_succeeded_indexes, succeeded_indexes;
    std::optional<job::OrderedIntervals> failed_indexes;
    job::BackoffRecord new_backoff;
    std::set<std::string> expected_rm_finalizers;
    std::set<std::string> uncounted_succeeded, uncounted_failed;
    std::map<int, Json> pods_with_delayed_deletion;  // by completion index
  };

  // ---- job_controller.cc: informers, queues, claiming ----
  void OnPodAdded(const Json& pod);
  void OnPodUpdated(const Json& old_pod, const Json& pod);
  void OnPodDeleted(const Json& pod, bool final_delete);
  void OnJobUpdated(const Json& old_job, const Json& job);
  // The Job controlling obj when it is in the informer with the same uid.
  std::optional<Json> ResolveControllerRef(const Json& obj);
  void EnqueueBatched(const std::string& key);
  void EnqueueOrphanPod(const Json& pod);
  void EnqueueMatchingJobs(const Json& pod);
  // Its own pods, plus matching orphans adopted with the tracking finalizer.
  Result<std::vector<Json>> GetPodsForJob(const Json& job);
  Result<SyncContext> NewSyncContext(const std::string& key, const Json& shared);
  void FindFinishingCondition(SyncContext& ctx, bool exceeds_backoff_limit);
  bool UpdateSuspendedCondition(SyncContext& ctx);
  void CountIndexes(SyncContext& ctx);
  void CleanupPodFinalizers(const Json& job);

  // ---- job_manage.cc: pods to create and delete ----
  // Returns the number of active pods after acting.
  Result<int> ManageJob(SyncContext& ctx);
  // Deletes pods (removing the finalizer first, so they count as failed); reports how
  // many were deleted and how many of those were ready.
  Status DeleteJobPods(SyncContext& ctx, const std::vector<Json>& pods, int* deleted, int* deleted_ready);
  // Deletes active pods of a finishing Job, keeping their finalizers.
  Status DeleteActivePods(SyncContext& ctx, int* deleted, int* deleted_ready);
  Status CreatePods(SyncContext& ctx, int count, int* created);
  std::vector<Json> ActivePodsForRemoval(const SyncContext& ctx, std::vector<Json> pods, int rm_at_least);
  std::map<int, Json> PodsWithDelayedDeletionPerIndex(const SyncContext& ctx);

  // ---- job_tracking.cc: counting finished pods exactly once ----
  Status TrackJobStatusAndRemoveFinalizers(SyncContext& ctx, bool needs_flush);
  Status FlushUncountedAndRemoveFinalizers(SyncContext& ctx, const std::vector<Json>& to_remove,
                                           std::set<std::string>& uids_with_finalizer, bool* needs_flush);
  // Removes finalizers; returns the UIDs whose finalizer is gone.
  std::set<std::string> RemoveTrackingFinalizers(const std::string& key, const std::vector<Json>& pods, Status* error);
  bool EnactJobFinished(SyncContext& ctx);
  void RecordJobFinished(const Json& job, const Json& condition);
  Status UpdateJobStatus(SyncContext& ctx);
  std::vector<Json> NewFinishedPods(const SyncContext& ctx, bool succeeded);
  int NonIgnoredFailedCount(const Json& job, const std::vector<Json>& failed);

  client::Client* client_;
  client::Informer& pods_;
  client::Informer& jobs_;
  const Clock& clock_;
  client::WorkQueue queue_;
  client::WorkQueue orphan_queue_;
  Expectations expectations_;
  job::FinalizerExpectations finalizer_expectations_;
  job::BackoffStore backoff_;
  client::EventRecorder recorder_;
};

}  // namespace kubes::controller
