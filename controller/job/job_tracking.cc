// Counting finished pods exactly once, and finishing the Job (upstream:
// trackJobStatusAndRemoveFinalizers, flushUncountedAndRemoveFinalizers,
// enactJobFinished and recordJobFinished in job_controller.go).
//
// Every pod of a Job is created with the batch.kubernetes.io/job-tracking finalizer,
// so it cannot disappear before the controller has seen how it ended. A finished pod
// goes through three steps, each written before the next starts:
//   1. its UID is added to status.uncountedTerminatedPods (status write);
//   2. its finalizer is removed (pod patch);
//   3. its UID moves from uncountedTerminatedPods into status.succeeded or .failed
//      (status write, often together with step 1 of other pods).
// A crash between any two steps repeats no count: a pod without the finalizer is never
// counted again, and an uncounted UID whose pod lost its finalizer is moved in step 3.
#include <algorithm>

#include "client/resources.h"
#include "controller/job/job_controller.h"

namespace kubes::controller {
namespace {

using client::kJobs;
using client::kPods;
using namespace job;  // NOLINT: the helpers of this controller

Json& Uncounted(Json& job, const char* which) {
  Json& u = job["status"]["uncountedTerminatedPods"];
  if (!u.is_object()) u = Json::object();
  if (!u.contains(which) || !u[which].is_array()) u[which] = Json::array();
  return u[which];
}

bool UncountedEmpty(const Json& job) {
  const Json& u = job["status"].value("uncountedTerminatedPods", Json::object());
  return u.value("succeeded", Json::array()).empty() && u.value("failed", Json::array()).empty();
}

// Moves uncounted UIDs whose pods no longer have the finalizer into the counters.
// Returns whether the status changed.
bool CleanUncountedPodsWithoutFinalizers(Json& job, const std::set<std::string>& with_finalizer) {
  bool changed = false;
  for (const char* which : {"succeeded", "failed"}) {
    Json& list = Uncounted(job, which);
    Json kept = Json::array();
    for (const auto& uid : list) {
      if (uid.is_string() && with_finalizer.count(uid.get<std::string>())) kept.push_back(uid);
    }
    if (kept.size() == list.size()) continue;
    changed = true;
    Json& counter = job["status"][which];
    counter = counter.is_number_integer() ? counter.get<int64_t>() + static_cast<int64_t>(list.size() - kept.size())
                                          : static_cast<int64_t>(list.size() - kept.size());
    list = kept;
  }
  return changed;
}

bool CanRemoveFinalizer(const Json& job, const std::optional<Json>& finished, const Json& pod, bool failed,
                        const std::map<int, Json>& delayed) {
  if (IsBeingDeleted(job) || finished || PodPhase(pod) == "Succeeded") return true;
  if (!failed) return false;
  // The index's last failure stays until its replacement carries the failure count.
  if (HasBackoffLimitPerIndex(job)) {
    auto it = delayed.find(CompletionIndex(pod));
    if (it != delayed.end() && UidOf(it->second) == UidOf(pod)) return false;
  }
  return true;
}

bool IsSuccessCriteriaMet(const std::optional<Json>& c) {
  return c && c->value("type", "") == "SuccessCriteriaMet" && c->value("status", "") == "True";
}

}  // namespace

std::vector<Json> JobController::NewFinishedPods(const SyncContext& ctx, bool succeeded) {
  const auto& uncounted = succeeded ? ctx.uncounted_succeeded : ctx.uncounted_failed;
  auto completions = Completions(ctx.job);
  std::vector<Json> out;
  for (const auto& p : ctx.pods) {
    std::string uid = UidOf(p);
    // Pods without the finalizer are counted already; uncounted ones are on their way.
    if (!HasJobTrackingFinalizer(p) || uncounted.count(uid) || ctx.expected_rm_finalizers.count(uid)) continue;
    if (IsIndexedJob(ctx.job)) {
      int ix = CompletionIndex(p);
      if (ix == kUnknownCompletionIndex || !completions || ix >= *completions) continue;
    }
    if (succeeded ? PodPhase(p) == "Succeeded" : IsPodFailed(p, ctx.job)) out.push_back(p);
  }
  return out;
}

int JobController::NonIgnoredFailedCount(const Json& job, const std::vector<Json>& failed) {
  int n = 0;
  for (const auto& p : failed) n += MatchPodFailurePolicy(job, p).count_failed;
  return n;
}

Status JobController::TrackJobStatusAndRemoveFinalizers(SyncContext& ctx, bool needs_flush) {
  Json& job = ctx.job;
  bool indexed = IsIndexedJob(job);
  int completions = Completions(job).value_or(0);
  if (indexed) {
    // Completed indexes are added in order.
    std::stable_sort(ctx.pods.begin(), ctx.pods.end(),
                     [](const Json& a, const Json& b) { return CompletionIndex(a) < CompletionIndex(b); });
  }
  std::set<std::string> with_finalizer;
  for (const auto& p : ctx.pods) {
    if (HasJobTrackingFinalizer(p) && !ctx.expected_rm_finalizers.count(UidOf(p))) with_finalizer.insert(UidOf(p));
  }
  if (CleanUncountedPodsWithoutFinalizers(job, with_finalizer)) needs_flush = true;

  std::vector<Json> to_remove;
  std::vector<int> new_succeeded_indexes;
  bool reached_max_uncounted = false;
  for (const auto& pod : ctx.pods) {
    std::string uid = UidOf(pod);
    if (!HasJobTrackingFinalizer(pod) || ctx.expected_rm_finalizers.count(uid)) continue;  // done before
    bool failed = IsPodFailed(pod, job);
    if (!CanRemoveFinalizer(job, ctx.finished_condition, pod, failed, ctx.pods_with_delayed_deletion)) continue;
    to_remove.push_back(pod);
    int ix = CompletionIndex(pod);
    if (PodPhase(pod) == "Succeeded" && !ctx.uncounted_failed.count(uid)) {
      if (indexed) {
        // The index is enough to never count it twice; no UID needed.
        if (ix != kUnknownCompletionIndex && ix < completions && !ctx.prev_succeeded_indexes.Has(ix)) {
          new_succeeded_indexes.push_back(ix);
          needs_flush = true;
        }
      } else if (!ctx.uncounted_succeeded.count(uid)) {
        Uncounted(job, "succeeded").push_back(uid);
        needs_flush = true;
      }
    } else if (failed || (ctx.finished_condition && !IsSuccessCriteriaMet(ctx.finished_condition))) {
      // When the Job is failing, every pod not yet finished counts as failed.
      bool valid_index = !indexed || (ix != kUnknownCompletionIndex && ix < completions);
      if (!ctx.uncounted_failed.count(uid) && valid_index && MatchPodFailurePolicy(job, pod).count_failed) {
        Uncounted(job, "failed").push_back(uid);
        needs_flush = true;
      }
    }
    size_t pending = new_succeeded_indexes.size() + Uncounted(job, "succeeded").size() + Uncounted(job, "failed").size();
    if (pending >= static_cast<size_t>(kMaxUncountedPods)) {
      // Keep status small and the sync short; the status write brings us back.
      reached_max_uncounted = true;
      break;
    }
  }
  Json& status = job["status"];
  if (indexed) {
    std::sort(new_succeeded_indexes.begin(), new_succeeded_indexes.end());
    ctx.succeeded_indexes = ctx.succeeded_indexes.WithOrderedIndexes(new_succeeded_indexes);
    std::string completed = ctx.succeeded_indexes.String();
    if (completed != status.value("completedIndexes", "")) needs_flush = true;
    status["succeeded"] = ctx.succeeded_indexes.Total();
    status["completedIndexes"] = completed;
    Json failed_indexes = ctx.failed_indexes ? Json(ctx.failed_indexes->String()) : Json();
    if (status.value("failedIndexes", Json()) != failed_indexes) {
      if (failed_indexes.is_null()) status.erase("failedIndexes");
      else status["failedIndexes"] = failed_indexes;
      needs_flush = true;
    }
  }
  if (ctx.finished_condition && ctx.finished_condition->value("type", "") == "FailureTarget") {
    // FailureTarget is written before any finalizer goes; Failed follows when all is counted.
    status["conditions"].push_back(*ctx.finished_condition);
    needs_flush = true;
    ctx.finished_condition = NewCondition("Failed", "True", ctx.finished_condition->value("reason", ""),
                                          ctx.finished_condition->value("message", ""), clock_.Now());
  }
  if (IsSuccessCriteriaMet(ctx.finished_condition)) {
    if (!ConditionTrue(job, "SuccessCriteriaMet")) {
      status["conditions"].push_back(*ctx.finished_condition);
      needs_flush = true;
    }
    ctx.finished_condition = NewCondition("Complete", "True", ctx.finished_condition->value("reason", ""),
                                          ctx.finished_condition->value("message", ""), clock_.Now());
  }
  KUBES_RETURN_IF_ERROR(FlushUncountedAndRemoveFinalizers(ctx, to_remove, with_finalizer, &needs_flush));
  bool finished = !reached_max_uncounted && EnactJobFinished(ctx);
  if (finished) needs_flush = true;
  if (!needs_flush) return Status::OK();
  Status s = UpdateJobStatus(ctx);
  if (!s.ok()) return std::move(s).Wrap("removing uncounted pods from status");
  if (finished) RecordJobFinished(ctx.job, *ctx.finished_condition);
  return Status::OK();
}

Status JobController::FlushUncountedAndRemoveFinalizers(SyncContext& ctx, const std::vector<Json>& to_remove,
                                                        std::set<std::string>& with_finalizer, bool* needs_flush) {
  if (*needs_flush) {
    Status s = UpdateJobStatus(ctx);
    if (!s.ok()) return std::move(s).Wrap("adding uncounted pods to status");
    backoff_.Update(ctx.new_backoff);
    *needs_flush = false;
  }
  Status rm_error = Status::OK();
  if (!to_remove.empty()) {
    for (const auto& uid : RemoveTrackingFinalizers(ctx.key, to_remove, &rm_error)) with_finalizer.erase(uid);
  }
  if (CleanUncountedPodsWithoutFinalizers(ctx.job, with_finalizer)) *needs_flush = true;
  if (!rm_error.ok() && *needs_flush) {
    // Record the partial progress before reporting the failure.
    Status s = UpdateJobStatus(ctx);
    if (!s.ok()) return std::move(s).Wrap("removing uncounted pods from status");
  }
  return rm_error;
}

std::set<std::string> JobController::RemoveTrackingFinalizers(const std::string& key, const std::vector<Json>& pods,
                                                              Status* error) {
  std::vector<std::string> uids;
  for (const auto& p : pods) uids.push_back(UidOf(p));
  finalizer_expectations_.ExpectRemoved(key, uids);
  std::set<std::string> removed;
  Json patch = {{"metadata", {{"$deleteFromPrimitiveList/finalizers", {kJobTrackingFinalizer}}}}};
  for (const auto& pod : pods) {
    if (!HasJobTrackingFinalizer(pod)) continue;
    auto r = client_->Patch(kPods, NamespaceOf(pod), NameOf(pod), "application/strategic-merge-patch+json", patch);
    if (!r.ok()) {
      finalizer_expectations_.Observed(key, UidOf(pod));  // no update will come for it
      if (r.status().code() != Code::kNotFound) {
        if (error->ok()) *error = std::move(r.status()).Wrap("removing tracking finalizer");
        continue;
      }
    }
    removed.insert(UidOf(pod));  // a pod that is gone has no finalizer either
  }
  return removed;
}

// Adds Complete or Failed once no pod is left uncounted or terminating.
bool JobController::EnactJobFinished(SyncContext& ctx) {
  if (!ctx.finished_condition) return false;
  if (!UncountedEmpty(ctx.job) || ctx.terminating > 0) return false;
  const Json& c = *ctx.finished_condition;
  Json& status = ctx.job["status"];
  EnsureJobConditionStatus(status, c.value("type", ""), c.value("status", ""), c.value("reason", ""),
                           c.value("message", ""), clock_.Now());
  if (c.value("type", "") == "Complete") status["completionTime"] = c.value("lastTransitionTime", "");
  return true;
}

void JobController::RecordJobFinished(const Json& job, const Json& condition) {
  if (condition.value("type", "") == "Complete") {
    auto completions = Completions(job);
    if (completions && job["status"].value("succeeded", 0) > *completions) {
      recorder_.Event(job, "Warning", "TooManySucceededPods",
                      "Too many succeeded pods running after completion count reached");
    }
    recorder_.Event(job, "Normal", "Completed", "Job completed");
    return;
  }
  recorder_.Event(job, "Warning", condition.value("reason", ""), condition.value("message", ""));
}

Status JobController::UpdateJobStatus(SyncContext& ctx) {
  Json obj = ctx.job;
  Json& status = obj["status"];
  // omitempty in the Go types: zero counters and empty lists are left out.
  for (const char* f : {"active", "succeeded", "failed"}) {
    if (status.contains(f) && status[f] == 0) status.erase(f);
  }
  if (status.value("completedIndexes", "").empty()) status.erase("completedIndexes");
  Json& uncounted = status["uncountedTerminatedPods"];
  for (const char* which : {"succeeded", "failed"}) {
    if (uncounted.contains(which) && uncounted[which].empty()) uncounted.erase(which);
  }
  if (status.contains("conditions") && status["conditions"].empty()) status.erase("conditions");
  auto updated = client_->Update(kJobs, NamespaceOf(obj), obj, "status");
  if (!updated.ok()) return updated.status();
  // Keep working on our own view of the status (counters included), with the new
  // resourceVersion so the next write is accepted.
  ctx.job["metadata"]["resourceVersion"] = (*updated)["metadata"].value("resourceVersion", "");
  return Status::OK();
}

}  // namespace kubes::controller
