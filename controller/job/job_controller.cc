// The controller's shape: informer handlers, the two work loops, claiming pods, and
// SyncJob's decisions (upstream: job_controller.go up to syncJob).
#include "controller/job/job_controller.h"

#include <thread>

#include "client/resources.h"
#include "controller/worker.h"

namespace kubes::controller {
namespace {

using client::kJobs;
using client::kPods;
using namespace job;  // NOLINT: the helpers of this controller

std::string KeyOf(const Json& obj) { return client::Informer::KeyOf(obj); }

std::optional<int64_t> StatusInt(const Json& job, const char* field) {
  const Json& st = job.value("status", Json::object());
  auto it = st.find(field);
  if (it == st.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

// Containers of an OnFailure pod restart in place; their restarts count as failures.
bool PastBackoffLimitOnFailure(const Json& job, const std::vector<Json>& pods) {
  const Json& tmpl_spec = job["spec"].value("template", Json::object()).value("spec", Json::object());
  if (tmpl_spec.value("restartPolicy", "") != "OnFailure") return false;
  int restarts = 0;
  for (const auto& p : pods) {
    std::string phase = PodPhase(p);
    if (phase != "Running" && phase != "Pending") continue;
    for (const char* list : {"initContainerStatuses", "containerStatuses"}) {
      for (const auto& cs : p.value("status", Json::object()).value(list, Json::array())) {
        restarts += cs.value("restartCount", 0);
      }
    }
  }
  int limit = BackoffLimit(job);
  return limit == 0 ? restarts > 0 : restarts >= limit;
}

}  // namespace

JobController::JobController(client::Client* c, client::Informer& pods, client::Informer& jobs, const Clock& clock)
    : client_(c),
      pods_(pods),
      jobs_(jobs),
      clock_(clock),
      expectations_(clock),
      recorder_(c, "job-controller", "", clock) {
  jobs_.AddIndex(client::Informer::kNamespaceIndex);
  pods_.AddIndex(client::Informer::kControllerIndex);
  jobs_.AddHandlers({.on_add = [this](const Json& j) { queue_.Add(KeyOf(j)); },
                     .on_update = [this](const Json& old_job, const Json& j) { OnJobUpdated(old_job, j); },
                     .on_delete =
                         [this](const Json& j) {
                           queue_.Add(KeyOf(j));
                           CleanupPodFinalizers(j);
                         }});
  pods_.AddHandlers({.on_add = [this](const Json& p) { OnPodAdded(p); },
                     .on_update = [this](const Json& old_pod, const Json& p) { OnPodUpdated(old_pod, p); },
                     .on_delete = [this](const Json& p) { OnPodDeleted(p, true); }});
}

void JobController::Run(const std::atomic<bool>& stop) {
  // Acting on a partial pod list would create pods that already exist.
  while (!stop && !(pods_.HasSynced() && jobs_.HasSynced())) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::thread orphans([&] {
    RunWorker(orphan_queue_, stop, std::chrono::milliseconds(200),
              [this](const std::string& key) { return SyncOrphanPod(key); });
  });
  RunWorker(queue_, stop, std::chrono::milliseconds(200), [this](const std::string& key) { return SyncJob(key); });
  orphans.join();
}

// ---- informer handlers ----

std::optional<Json> JobController::ResolveControllerRef(const Json& obj) {
  auto ref = GetControllerOf(obj);
  if (!ref || ref->value("kind", "") != "Job") return std::nullopt;
  Json job;
  if (!jobs_.Get(NamespaceOf(obj) + "/" + ref->value("name", ""), &job)) return std::nullopt;
  if (UidOf(job) != ref->value("uid", "")) return std::nullopt;
  return job;
}

void JobController::EnqueueBatched(const std::string& key) {
  queue_.AddAfter(key, std::chrono::duration_cast<std::chrono::milliseconds>(kSyncJobBatchPeriod));
}

void JobController::EnqueueOrphanPod(const Json& pod) { orphan_queue_.Add(KeyOf(pod)); }

// Jobs of the pod's namespace whose selector matches it: they may adopt it.
void JobController::EnqueueMatchingJobs(const Json& pod) {
  labels::Labels pod_labels = LabelsOf(pod);
  for (const auto& ptr : jobs_.ByIndex(client::Informer::kNamespaceIndex, NamespaceOf(pod))) {
    const Json& j = *ptr;
    auto sel = labels::SelectorFromLabelSelector(j["spec"].value("selector", Json()));
    if (sel.ok() && !sel->Empty() && sel->Matches(pod_labels)) EnqueueBatched(KeyOf(j));
  }
}

void JobController::OnPodAdded(const Json& pod) {
  if (IsBeingDeleted(pod)) {
    // Seen for the first time while already being deleted (a restart): not a creation.
    OnPodDeleted(pod, false);
    return;
  }
  if (GetControllerOf(pod)) {
    auto job = ResolveControllerRef(pod);
    if (!job) return;
    expectations_.CreationObserved(KeyOf(*job));
    EnqueueBatched(KeyOf(*job));
    return;
  }
  if (HasJobTrackingFinalizer(pod)) EnqueueOrphanPod(pod);
  EnqueueMatchingJobs(pod);
}

void JobController::OnPodUpdated(const Json& old_pod, const Json& pod) {
  if (IsBeingDeleted(pod)) {
    // Replacements start as soon as a pod is terminating, not when it is gone.
    OnPodDeleted(pod, false);
    return;
  }
  bool finalizer_removed = !HasJobTrackingFinalizer(pod);
  auto cur_ref = GetControllerOf(pod);
  auto old_ref = GetControllerOf(old_pod);
  bool ref_changed = cur_ref != old_ref;
  if (ref_changed && old_ref) {
    if (auto job = ResolveControllerRef(old_pod)) {
      if (finalizer_removed) finalizer_expectations_.Observed(KeyOf(*job), UidOf(pod));
      EnqueueBatched(KeyOf(*job));
    }
  }
  if (cur_ref) {
    auto job = ResolveControllerRef(pod);
    if (!job) return;
    if (finalizer_removed) finalizer_expectations_.Observed(KeyOf(*job), UidOf(pod));
    EnqueueBatched(KeyOf(*job));
    return;
  }
  if (HasJobTrackingFinalizer(pod)) EnqueueOrphanPod(pod);
  if (LabelsOf(old_pod) != LabelsOf(pod) || ref_changed) EnqueueMatchingJobs(pod);
}

void JobController::OnPodDeleted(const Json& pod, bool final_delete) {
  bool has_finalizer = HasJobTrackingFinalizer(pod);
  if (!GetControllerOf(pod)) {
    // An orphan: the garbage collector may have removed the Job's reference.
    if (has_finalizer) EnqueueOrphanPod(pod);
    return;
  }
  auto job = ResolveControllerRef(pod);
  if (!job || IsJobFinished(*job)) {
    if (has_finalizer) EnqueueOrphanPod(pod);  // SyncJob will not look at it again
    return;
  }
  std::string key = KeyOf(*job);
  expectations_.DeletionObserved(key, UidOf(pod));
  if (final_delete || !has_finalizer) finalizer_expectations_.Observed(key, UidOf(pod));
  EnqueueBatched(key);
}

void JobController::OnJobUpdated(const Json& old_job, const Json& job) {
  std::string key = KeyOf(job);
  // A spec change is acted on at once; status changes (mostly our own) are batched.
  if (job["metadata"].value("generation", 0) == old_job["metadata"].value("generation", 0)) EnqueueBatched(key);
  else queue_.Add(key);
  if (IsJobFinished(job)) CleanupPodFinalizers(job);  // a backstop: SyncJob removed them already
  // A new activeDeadlineSeconds needs a look when it runs out.
  auto start = ParseRFC3339(job.value("status", Json::object()).value("startTime", ""));
  const Json& ads = job["spec"].value("activeDeadlineSeconds", Json());
  if (start && ads.is_number_integer() && ads != old_job["spec"].value("activeDeadlineSeconds", Json())) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        *start + std::chrono::seconds(ads.get<int64_t>()) - clock_.Now());
    queue_.AddAfter(key, std::max(left, std::chrono::milliseconds(0)));
  }
}

void JobController::CleanupPodFinalizers(const Json& job) {
  for (const auto& pod : pods_.ByIndex(client::Informer::kControllerIndex, UidOf(job))) {
    if (NamespaceOf(*pod) == NamespaceOf(job) && HasJobTrackingFinalizer(*pod)) EnqueueOrphanPod(*pod);
  }
}

Status JobController::SyncOrphanPod(const std::string& key) {
  Json pod;
  if (!pods_.Get(key, &pod)) return Status::OK();
  if (auto ref = GetControllerOf(pod)) {
    // Only pods of batch/v1 Jobs carry our finalizer; a live, unfinished Job keeps it.
    if (ref->value("kind", "") != "Job" || ref->value("apiVersion", "") != "batch/v1") return Status::OK();
    auto job = ResolveControllerRef(pod);
    if (job && job->value("spec", Json::object()).contains("managedBy") &&
        (*job)["spec"]["managedBy"] != "kubernetes.io/job-controller") {
      return Status::OK();
    }
    if (job && !IsJobFinished(*job)) return Status::OK();
  }
  if (!HasJobTrackingFinalizer(pod)) return Status::OK();
  Json patch = {{"metadata", {{"$deleteFromPrimitiveList/finalizers", {kJobTrackingFinalizer}}}}};
  auto r = client_->Patch(kPods, NamespaceOf(pod), NameOf(pod), "application/strategic-merge-patch+json", patch);
  if (!r.ok() && r.status().code() != Code::kNotFound) return r.status();
  return Status::OK();
}

Result<std::vector<Json>> JobController::GetPodsForJob(const Json& job) {
  auto selector = labels::SelectorFromLabelSelector(job["spec"].value("selector", Json()));
  if (!selector.ok()) return Invalid("couldn't convert Job selector: " + selector.status().message());
  // Owned pods (those that stopped matching are released) and orphans to adopt.
  return ClaimObjects(client_, kPods, job, *selector, ControlledOrOrphans(pods_, job), {kJobTrackingFinalizer});
}

// ---- SyncJob ----

// Sets ctx.finished_condition when the Job has met its success criteria or a failure.
void JobController::FindFinishingCondition(SyncContext& ctx, bool exceeds_backoff_limit) {
  Json& job = ctx.job;
  TimePoint now = clock_.Now();
  if (ConditionTrue(job, "SuccessCriteriaMet")) {
    ctx.finished_condition = *FindJobCondition(job, "SuccessCriteriaMet");
    return;  // decided in an earlier sync; the pod failure policy no longer matters
  }
  if (ConditionTrue(job, "FailureTarget")) {
    const Json* t = FindJobCondition(job, "FailureTarget");
    ctx.finished_condition = NewCondition("Failed", "True", t->value("reason", ""), t->value("message", ""), now);
    return;
  }
  for (const auto& p : ctx.pods) {
    if (!IsPodFailed(p, job)) continue;
    if (auto msg = MatchPodFailurePolicy(job, p).fail_job_message) {
      ctx.finished_condition = NewCondition("FailureTarget", "True", "PodFailurePolicy", *msg, now);
      return;
    }
  }
  if (exceeds_backoff_limit || PastBackoffLimitOnFailure(job, ctx.pods)) {
    ctx.finished_condition =
        NewCondition("FailureTarget", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit", now);
    return;
  }
  const Json& ads = job["spec"].value("activeDeadlineSeconds", Json());
  auto start = ParseRFC3339(job["status"].value("startTime", ""));
  if (ads.is_number_integer() && start && !IsSuspended(job)) {
    auto deadline = *start + std::chrono::seconds(ads.get<int64_t>());
    if (now >= deadline) {
      ctx.finished_condition = NewCondition("FailureTarget", "True", "DeadlineExceeded",
                                            "Job was active longer than specified deadline", now);
    } else {
      queue_.AddAfter(ctx.key, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
    }
  }
}

// Indexed Jobs count indexes, not pods: which succeeded, which failed for good (with
// backoffLimitPerIndex), and whether that fails the Job or meets its successPolicy.
void JobController::CountIndexes(SyncContext& ctx) {
  Json& job = ctx.job;
  Json& status = job["status"];
  int completions = *Completions(job);
  ctx.prev_succeeded_indexes = OrderedIntervals::Parse(status.value("completedIndexes", ""), completions);
  std::set<int> newly;
  for (const auto& p : ctx.pods) {
    int ix = CompletionIndex(p);
    if (PodPhase(p) == "Succeeded" && ix != kUnknownCompletionIndex && ix < completions && HasJobTrackingFinalizer(p)) {
      newly.insert(ix);
    }
  }
  ctx.succeeded_indexes = ctx.prev_succeeded_indexes.WithOrderedIndexes({newly.begin(), newly.end()});
  ctx.succeeded = ctx.succeeded_indexes.Total();
  if (HasBackoffLimitPerIndex(job)) {
    ctx.failed_indexes = OrderedIntervals::Parse(status.value("failedIndexes", ""), completions);
    std::set<int> failed_now;
    int per_index = job["spec"].value("backoffLimitPerIndex", 0);
    for (const auto& p : ctx.pods) {
      int ix = CompletionIndex(p);
      if (ix == kUnknownCompletionIndex || ix >= completions || !HasJobTrackingFinalizer(p) || !IsPodFailed(p, job)) {
        continue;
      }
      PolicyMatch m = MatchPodFailurePolicy(job, p);
      if ((m.action && *m.action == "FailIndex") || (m.count_failed && IndexFailureCount(p) >= per_index)) {
        failed_now.insert(ix);
      }
    }
    ctx.failed_indexes = ctx.failed_indexes->WithOrderedIndexes({failed_now.begin(), failed_now.end()});
    if (!ctx.finished_condition) {
      const Json& max_failed = job["spec"].value("maxFailedIndexes", Json());
      int total_failed = ctx.failed_indexes->Total();
      if (max_failed.is_number_integer() && total_failed > max_failed.get<int>()) {
        ctx.finished_condition = NewCondition("FailureTarget", "True", "MaxFailedIndexesExceeded",
                                              "Job has exceeded the specified maximal number of failed indexes",
                                              clock_.Now());
      } else if (total_failed > 0 && total_failed + ctx.succeeded_indexes.Total() >= completions) {
        ctx.finished_condition =
            NewCondition("FailureTarget", "True", "FailedIndexes", "Job has failed indexes", clock_.Now());
      }
    }
    ctx.pods_with_delayed_deletion = PodsWithDelayedDeletionPerIndex(ctx);
  }
  if (!ctx.finished_condition) {
    if (auto msg = MatchSuccessPolicy(job, ctx.succeeded_indexes)) {
      ctx.finished_condition = NewCondition("SuccessCriteriaMet", "True", "SuccessPolicy", *msg, clock_.Now());
    }
  }
}

// Claims the pods and counts them: active, ready, terminating, and the finished ones
// not yet in status (upstream: the first half of syncJob).
Result<JobController::SyncContext> JobController::NewSyncContext(const std::string& key, const Json& shared) {
  SyncContext ctx;
  ctx.key = key;
  ctx.job = shared;
  Json& job = ctx.job;
  if (!job.contains("status") || !job["status"].is_object()) job["status"] = Json::object();
  Json& status = job["status"];
  if (!status.contains("uncountedTerminatedPods") || !status["uncountedTerminatedPods"].is_object()) {
    status["uncountedTerminatedPods"] = Json::object();
  }
  auto pods = GetPodsForJob(job);
  if (!pods.ok()) return pods.status();
  ctx.pods = std::move(*pods);
  for (const auto& p : ctx.pods) {
    if (IsPodActive(p)) {
      ctx.active_pods.push_back(p);
      ctx.ready += IsPodReady(p);
    }
    ctx.terminating += IsPodTerminating(p);
  }
  for (const auto& uid : status["uncountedTerminatedPods"].value("succeeded", Json::array())) {
    if (uid.is_string()) ctx.uncounted_succeeded.insert(uid.get<std::string>());
  }
  for (const auto& uid : status["uncountedTerminatedPods"].value("failed", Json::array())) {
    if (uid.is_string()) ctx.uncounted_failed.insert(uid.get<std::string>());
  }
  ctx.expected_rm_finalizers = finalizer_expectations_.Expected(key);
  std::vector<Json> new_succeeded = NewFinishedPods(ctx, true);
  std::vector<Json> new_failed = NewFinishedPods(ctx, false);
  ctx.succeeded = static_cast<int>(StatusInt(job, "succeeded").value_or(0) + new_succeeded.size() +
                                   ctx.uncounted_succeeded.size());
  ctx.failed = static_cast<int>(StatusInt(job, "failed").value_or(0) + NonIgnoredFailedCount(job, new_failed) +
                                ctx.uncounted_failed.size());
  if (!status.contains("startTime") && !IsSuspended(job)) status["startTime"] = FormatRFC3339(clock_.Now());
  ctx.new_backoff = backoff_.NewRecord(key, new_succeeded, new_failed);
  return ctx;
}

// Suspended=True when suspended, False (JobResumed) after; a resume restarts the clock
// of activeDeadlineSeconds. Returns whether the condition changed.
bool JobController::UpdateSuspendedCondition(SyncContext& ctx) {
  Json& status = ctx.job["status"];
  TimePoint now = clock_.Now();
  if (IsSuspended(ctx.job)) {
    if (!EnsureJobConditionStatus(status, "Suspended", "True", "JobSuspended", "Job suspended", now)) return false;
    recorder_.Event(ctx.job, "Normal", "Suspended", "Job suspended");
    return true;
  }
  if (!EnsureJobConditionStatus(status, "Suspended", "False", "JobResumed", "Job resumed", now)) return false;
  recorder_.Event(ctx.job, "Normal", "Resumed", "Job resumed");
  status["startTime"] = FormatRFC3339(now);
  return true;
}

Status JobController::SyncJob(const std::string& key) {
  Json shared;
  if (!jobs_.Get(key, &shared)) {
    expectations_.Delete(key);
    finalizer_expectations_.Delete(key);
    backoff_.Remove(key);
    return Status::OK();
  }
  // A Job managed by another controller (spec.managedBy) is left to it.
  const Json& managed_by = shared["spec"].value("managedBy", Json());
  if (managed_by.is_string() && managed_by != "kubernetes.io/job-controller") return Status::OK();
  if (IsJobFinished(shared)) {
    backoff_.Remove(key);
    return Status::OK();
  }
  std::string mode = shared["spec"].value("completionMode", "NonIndexed");
  if (mode != "NonIndexed" && mode != "Indexed") {
    recorder_.Event(shared, "Warning", "UnknownCompletionMode", "Skipped Job sync because completion mode is unknown");
    return Status::OK();
  }
  if (IsIndexedJob(shared) && !Completions(shared)) return Status::OK();  // validation forbids it
  // Expectations first: a pod created after this point is seen by the next sync.
  bool satisfied = expectations_.Satisfied(key);
  auto made = NewSyncContext(key, shared);
  if (!made.ok()) return made.status();
  SyncContext& ctx = *made;
  Json& job = ctx.job;
  Json& status = job["status"];
  int active = static_cast<int>(ctx.active_pods.size());
  FindFinishingCondition(ctx, ctx.failed > BackoffLimit(job));
  if (IsIndexedJob(job)) CountIndexes(ctx);

  Status manage_error = Status::OK();
  bool suspend_changed = false;
  if (ctx.finished_condition) {
    // Finishing: stop what still runs. Keep the decision for a later sync until every
    // pod is gone from the active set and the informer has caught up.
    int deleted = 0, deleted_ready = 0;
    manage_error = DeleteActivePods(ctx, &deleted, &deleted_ready);
    if (deleted != active || !satisfied) ctx.finished_condition.reset();
    active -= deleted;
    ctx.terminating += deleted;
    ctx.ready -= deleted_ready;
  } else {
    bool managed = false;
    if (satisfied && !IsBeingDeleted(job)) {
      auto a = ManageJob(ctx);
      if (a.ok()) active = *a;
      else manage_error = a.status();
      managed = true;
    }
    auto completions = Completions(job);
    bool complete = completions ? ctx.succeeded >= *completions && active == 0 : ctx.succeeded > 0 && active == 0;
    if (complete) {
      ctx.finished_condition = NewCondition("SuccessCriteriaMet", "True", "CompletionsReached",
                                            "Reached expected number of succeeded pods", clock_.Now());
    } else if (managed) {
      // Suspended and Resumed are reported only from the sync that acted on them.
      suspend_changed = UpdateSuspendedCondition(ctx);
    }
  }

  bool needs_update = suspend_changed || active != StatusInt(job, "active").value_or(0) ||
                      ctx.ready != StatusInt(job, "ready").value_or(-1) ||
                      ctx.terminating != StatusInt(job, "terminating").value_or(-1);
  status["active"] = active;
  status["ready"] = ctx.ready;
  status["terminating"] = ctx.terminating;
  Status s = TrackJobStatusAndRemoveFinalizers(ctx, needs_update);
  if (!s.ok()) return std::move(s).Wrap("tracking status");
  return manage_error;
}

}  // namespace kubes::controller
