// Which pods to create and which to delete (upstream: manageJob, deleteJobPods,
// deleteActivePods and activePodsForRemoval in job_controller.go, and the per-index
// parts of indexed_job_utils.go).
#include <algorithm>

#include "client/resources.h"
#include "controller/job/job_controller.h"

namespace kubes::controller {
namespace {

using client::kPods;
using namespace job;  // NOLINT: the helpers of this controller

// Upstream names.MaxGeneratedNameLength: the apiserver appends 5 random characters.
constexpr size_t kMaxGeneratedNameLength = 58;

std::chrono::milliseconds AtLeastBatchPeriod(std::chrono::milliseconds d) {
  return std::max(d, std::chrono::duration_cast<std::chrono::milliseconds>(JobController::kSyncJobBatchPeriod));
}

std::string GenerateNameWithIndex(const std::string& job_name, int index) {
  std::string suffix = "-" + std::to_string(index) + "-";
  std::string prefix = job_name + suffix;
  if (prefix.size() > kMaxGeneratedNameLength) prefix = prefix.substr(0, kMaxGeneratedNameLength - suffix.size()) + suffix;
  return prefix;
}

// Every container learns its index from the pod's label, through the downward API.
void AddCompletionIndexEnv(Json& spec) {
  for (const char* list : {"initContainers", "containers"}) {
    if (!spec.contains(list) || !spec[list].is_array()) continue;
    for (auto& c : spec[list]) {
      Json& env = c["env"];
      if (!env.is_array()) env = Json::array();
      bool present = std::any_of(env.begin(), env.end(), [](const Json& e) { return e.value("name", "") == kJobCompletionIndexEnv; });
      if (present) continue;
      env.push_back({{"name", kJobCompletionIndexEnv},
                     {"valueFrom",
                      {{"fieldRef", {{"fieldPath", std::string("metadata.labels['") + kJobCompletionIndexAnnotation + "']"}}}}}});
    }
  }
}

// The failure counts a replacement for `replaced` (the index's last failed pod) carries.
std::pair<int, int> NewIndexFailureCounts(const Json& job, const Json* replaced) {
  if (!replaced) return {0, 0};
  int count = IndexFailureCount(*replaced), ignored = IndexIgnoredFailureCount(*replaced);
  if (MatchPodFailurePolicy(job, *replaced).count_failed) ++count;
  else ++ignored;
  return {count, ignored};
}

}  // namespace

Result<int> JobController::ManageJob(SyncContext& ctx) {
  const Json& job = ctx.job;
  int active = static_cast<int>(ctx.active_pods.size());
  if (IsSuspended(job)) {
    auto to_delete = ActivePodsForRemoval(ctx, ctx.active_pods, active);
    int deleted = 0, deleted_ready = 0;
    Status s = DeleteJobPods(ctx, to_delete, &deleted, &deleted_ready);
    ctx.terminating += deleted;
    ctx.ready -= deleted_ready;
    if (!s.ok()) return s;
    return active - deleted;
  }

  int parallelism = Parallelism(job);
  auto completions = Completions(job);
  int want_active;
  if (!completions) {
    // Without completions any success ends the Job: after one, start nothing new.
    want_active = ctx.succeeded > 0 ? active : parallelism;
  } else {
    want_active = std::clamp(*completions - ctx.succeeded, 0, parallelism);
  }

  auto to_delete = ActivePodsForRemoval(ctx, ctx.active_pods, std::max(active - want_active, 0));
  if (to_delete.size() > static_cast<size_t>(kMaxPodCreateDeletePerSync)) to_delete.resize(kMaxPodCreateDeletePerSync);
  if (!to_delete.empty()) {
    // Deletions and creations are never mixed in one sync; deletions go first.
    int deleted = 0, deleted_ready = 0;
    Status s = DeleteJobPods(ctx, to_delete, &deleted, &deleted_ready);
    ctx.terminating += deleted;
    ctx.ready -= deleted_ready;
    if (!s.ok()) return s;
    return active - deleted;
  }

  // With podReplacementPolicy Failed, a terminating pod still holds its place.
  int terminating = OnlyReplaceFailedPods(job) ? ctx.terminating : 0;
  int diff = want_active - terminating - active;
  if (diff <= 0) return active;
  if (!HasBackoffLimitPerIndex(job)) {
    auto wait = ctx.new_backoff.RemainingTime(clock_.Now());
    if (wait.count() > 0) {
      queue_.AddAfter(ctx.key, AtLeastBatchPeriod(wait));
      return active;
    }
  }
  int created = 0;
  Status s = CreatePods(ctx, std::min(diff, kMaxPodCreateDeletePerSync), &created);
  if (!s.ok()) return s;
  return active + created;
}

Status JobController::CreatePods(SyncContext& ctx, int count, int* created) {
  const Json& job = ctx.job;
  std::vector<int> indexes;
  if (IsIndexedJob(job)) {
    int completions = *Completions(job);
    std::vector<int> taken;
    for (const auto& p : ctx.active_pods) taken.push_back(CompletionIndex(p));
    if (OnlyReplaceFailedPods(job)) {
      for (const auto& p : ctx.pods) {
        if (IsPodTerminating(p)) taken.push_back(CompletionIndex(p));
      }
    }
    taken.erase(std::remove(taken.begin(), taken.end(), kUnknownCompletionIndex), taken.end());
    std::sort(taken.begin(), taken.end());
    taken.erase(std::unique(taken.begin(), taken.end()), taken.end());
    OrderedIntervals non_pending = ctx.succeeded_indexes.WithOrderedIndexes(taken);
    if (ctx.failed_indexes) non_pending = non_pending.Merge(*ctx.failed_indexes);
    indexes = FirstPendingIndexes(non_pending, count, completions);
    if (HasBackoffLimitPerIndex(job)) {
      // Each index backs off on its own failures.
      std::vector<int> now_ready;
      std::optional<std::chrono::milliseconds> min_wait;
      for (int ix : indexes) {
        auto it = ctx.pods_with_delayed_deletion.find(ix);
        std::chrono::milliseconds wait(0);
        if (it != ctx.pods_with_delayed_deletion.end()) {
          int failures = IndexFailureCount(it->second) + IndexIgnoredFailureCount(it->second) + 1;
          wait = RemainingTimeForFailures(failures, FinishedTime(it->second), clock_.Now());
        }
        if (wait.count() == 0) now_ready.push_back(ix);
        else if (!min_wait || wait < *min_wait) min_wait = wait;
      }
      if (now_ready.empty() && min_wait) {
        queue_.AddAfter(ctx.key, AtLeastBatchPeriod(*min_wait));
        return Status::OK();
      }
      indexes = now_ready;
    }
    count = static_cast<int>(indexes.size());
  }
  if (count <= 0) return Status::OK();

  Json tmpl = job["spec"].value("template", Json::object());
  if (IsIndexedJob(job)) AddCompletionIndexEnv(tmpl["spec"]);
  Json& finalizers = tmpl["metadata"]["finalizers"];
  if (!finalizers.is_array()) finalizers = Json::array();
  if (std::find(finalizers.begin(), finalizers.end(), kJobTrackingFinalizer) == finalizers.end()) {
    finalizers.push_back(kJobTrackingFinalizer);
  }
  expectations_.ExpectCreations(ctx.key, count);
  // Slow start: batches of 1, 2, 4, …; the first failure skips the rest.
  size_t next_index = 0;
  for (int batch = 1; *created < count; batch *= 2) {
    int n = std::min(batch, count - *created);
    for (int i = 0; i < n; ++i) {
      Json pod = PodFromTemplate(tmpl, job);
      if (next_index < indexes.size()) {
        int ix = indexes[next_index++];
        std::string ix_str = std::to_string(ix);
        pod["metadata"]["annotations"][kJobCompletionIndexAnnotation] = ix_str;
        pod["metadata"]["labels"][kJobCompletionIndexAnnotation] = ix_str;
        pod["spec"]["hostname"] = NameOf(job) + "-" + ix_str;
        pod["metadata"]["generateName"] = GenerateNameWithIndex(NameOf(job), ix);
        if (HasBackoffLimitPerIndex(job)) {
          auto it = ctx.pods_with_delayed_deletion.find(ix);
          auto [failures, ignored] =
              NewIndexFailureCounts(job, it == ctx.pods_with_delayed_deletion.end() ? nullptr : &it->second);
          pod["metadata"]["annotations"][kJobIndexFailureCountAnnotation] = std::to_string(failures);
          if (ignored > 0) pod["metadata"]["annotations"][kJobIndexIgnoredFailureCountAnnotation] = std::to_string(ignored);
        }
      }
      auto made = client_->Create(kPods, NamespaceOf(job), pod);
      if (!made.ok()) {
        expectations_.LowerCreations(ctx.key, count - *created);
        // Creations in a namespace being deleted fail for good; nothing to report.
        if (made.status().message().find("because it is being terminated") != std::string::npos) return Status::OK();
        recorder_.Event(job, "Warning", "FailedCreate", "Error creating: " + made.status().message());
        return made.status();
      }
      ++*created;
      recorder_.Event(job, "Normal", "SuccessfulCreate", "Created pod: " + NameOf(*made));
    }
  }
  return Status::OK();
}

Status JobController::DeleteJobPods(SyncContext& ctx, const std::vector<Json>& pods, int* deleted,
                                    int* deleted_ready) {
  std::vector<std::string> uids;
  for (const auto& p : pods) uids.push_back(UidOf(p));
  expectations_.ExpectDeletions(ctx.key, uids);
  Status first_error = Status::OK();
  for (const Json& pod : pods) {
    // Without the finalizer the pod is gone once stopped; it counts as failed.
    Status s = Status::OK();
    if (HasJobTrackingFinalizer(pod)) {
      Json patch = {{"metadata", {{"$deleteFromPrimitiveList/finalizers", {kJobTrackingFinalizer}}}}};
      s = client_->Patch(kPods, NamespaceOf(pod), NameOf(pod), "application/strategic-merge-patch+json", patch).status();
      if (!s.ok()) s = std::move(s).Wrap("removing completion finalizer");
    }
    if (s.ok()) s = client_->Delete(kPods, NamespaceOf(pod), NameOf(pod));
    if (!s.ok()) {
      expectations_.DeletionObserved(ctx.key, UidOf(pod));  // the informer will not see it
      if (s.code() == Code::kNotFound) continue;
      recorder_.Event(ctx.job, "Warning", "FailedDelete", "Error deleting: " + s.message());
      if (first_error.ok()) first_error = s;
      continue;
    }
    ++*deleted;
    *deleted_ready += IsPodReady(pod);
    recorder_.Event(ctx.job, "Normal", "SuccessfulDelete", "Deleted pod: " + NameOf(pod));
  }
  return first_error;
}

Status JobController::DeleteActivePods(SyncContext& ctx, int* deleted, int* deleted_ready) {
  Status first_error = Status::OK();
  for (const Json& pod : ctx.active_pods) {
    Status s = client_->Delete(kPods, NamespaceOf(pod), NameOf(pod));
    if (!s.ok() && s.code() != Code::kNotFound) {
      recorder_.Event(ctx.job, "Warning", "FailedDelete", "Error deleting: " + s.message());
      if (first_error.ok()) first_error = s;
      continue;
    }
    ++*deleted;
    *deleted_ready += IsPodReady(pod);
    if (s.ok()) recorder_.Event(ctx.job, "Normal", "SuccessfulDelete", "Deleted pod: " + NameOf(pod));
  }
  return first_error;
}

// Pods to delete: for an Indexed Job first every pod without a valid index and all but
// one pod of a repeated index; then, to reach rm_at_least, the least useful pods
// (unscheduled, pending, not ready, …, see SortPodsForDeletion).
std::vector<Json> JobController::ActivePodsForRemoval(const SyncContext& ctx, std::vector<Json> pods,
                                                      int rm_at_least) {
  std::vector<Json> rm, left;
  if (IsIndexedJob(ctx.job)) {
    int completions = *Completions(ctx.job);
    std::map<int, std::vector<Json>> by_index;
    for (auto& p : pods) {
      int ix = CompletionIndex(p);
      if (ix == kUnknownCompletionIndex || ix >= completions) rm.push_back(std::move(p));
      else by_index[ix].push_back(std::move(p));
    }
    for (auto& [ix, group] : by_index) {
      SortPodsForDeletion(group, clock_.Now());
      for (size_t i = 0; i + 1 < group.size(); ++i) rm.push_back(std::move(group[i]));
      left.push_back(std::move(group.back()));
    }
  } else {
    left = std::move(pods);
  }
  if (static_cast<int>(rm.size()) < rm_at_least) {
    SortPodsForDeletion(left, clock_.Now());
    for (size_t i = 0; static_cast<int>(rm.size()) < rm_at_least && i < left.size(); ++i) rm.push_back(left[i]);
  }
  return rm;
}

// For each index whose pod failed and has no replacement yet, the failed pod with the
// highest failure count: it stays (finalizer kept) until its replacement is created
// and has copied the count into its annotation.
std::map<int, Json> JobController::PodsWithDelayedDeletionPerIndex(const SyncContext& ctx) {
  std::set<int> active;
  for (const auto& p : ctx.active_pods) active.insert(CompletionIndex(p));
  int completions = *Completions(ctx.job);
  std::map<int, Json> out;
  for (const auto& p : ctx.pods) {
    if (!HasJobTrackingFinalizer(p) || ctx.expected_rm_finalizers.count(UidOf(p)) || !IsPodFailed(p, ctx.job)) continue;
    int ix = CompletionIndex(p);
    if (ix == kUnknownCompletionIndex || ix >= completions) continue;
    if (ctx.succeeded_indexes.Has(ix) || (ctx.failed_indexes && ctx.failed_indexes->Has(ix)) || active.count(ix)) {
      continue;
    }
    auto it = out.find(ix);
    if (it == out.end()) {
      out[ix] = p;
      continue;
    }
    const Json& last = it->second;
    int last_count = IndexFailureCount(last) + IndexIgnoredFailureCount(last);
    int count = IndexFailureCount(p) + IndexIgnoredFailureCount(p);
    if (last_count <= count && !(FinishedTime(p) < FinishedTime(last))) it->second = p;
  }
  return out;
}

}  // namespace kubes::controller
