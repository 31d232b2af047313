// The parts of the Job controller that are plain functions of API objects (upstream:
// pkg/controller/job/indexed_job_utils.go, pod_failure_policy.go, success_policy.go,
// backoff_utils.go, tracking_utils.go and pkg/controller/job/util):
//
//  - completion indexes of Indexed Jobs and the compressed interval lists
//    ("1,3-5,7") that status.completedIndexes and status.failedIndexes use;
//  - matching a failed pod against spec.podFailurePolicy, and the succeeded indexes
//    against spec.successPolicy;
//  - the pod-failure backoff: 10 s after the first failure, doubling per further
//    failure since the last success, capped at 10 minutes;
//  - Job conditions in the batch/v1 shape (type, status, reason, message,
//    lastProbeTime, lastTransitionTime).
//
// Jobs and pods are JSON objects as the API serves them; helpers read absent fields as
// the API defaults them.
//
// Thread-safety: pure functions, except BackoffStore (internally locked).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "util/time.h"

namespace kubes::controller::job {

using Json = nlohmann::json;

inline constexpr char kJobTrackingFinalizer[] = "batch.kubernetes.io/job-tracking";
inline constexpr char kJobCompletionIndexAnnotation[] = "batch.kubernetes.io/job-completion-index";
inline constexpr char kJobIndexFailureCountAnnotation[] = "batch.kubernetes.io/job-index-failure-count";
inline constexpr char kJobIndexIgnoredFailureCountAnnotation[] = "batch.kubernetes.io/job-index-ignored-failure-count";
inline constexpr char kJobCompletionIndexEnv[] = "JOB_COMPLETION_INDEX";
inline constexpr int kUnknownCompletionIndex = -1;

// ---- the Job's spec, as the controller reads it ----

bool IsIndexedJob(const Json& job);
// spec.completions, or nullopt ("any one success completes the Job").
std::optional<int> Completions(const Json& job);
int Parallelism(const Json& job);
int BackoffLimit(const Json& job);
bool HasBackoffLimitPerIndex(const Json& job);
bool IsSuspended(const Json& job);
// podReplacementPolicy Failed (or a podFailurePolicy): replace a pod only once it has
// fully failed, not while it is terminating.
bool OnlyReplaceFailedPods(const Json& job);

// ---- pods ----

bool HasJobTrackingFinalizer(const Json& pod);
std::string PodPhase(const Json& pod);
// Failed, or (unless only failed pods are replaced) deleted before it succeeded.
bool IsPodFailed(const Json& pod, const Json& job);
// Being deleted and not yet Succeeded or Failed.
bool IsPodTerminating(const Json& pod);
// The batch.kubernetes.io/job-completion-index annotation, or kUnknownCompletionIndex.
int CompletionIndex(const Json& pod);
// When a finished pod finished: its containers' last finish, else when Ready turned
// False, else its deletion time minus the grace period, else its creation.
TimePoint FinishedTime(const Json& pod);
int IndexFailureCount(const Json& pod);
int IndexIgnoredFailureCount(const Json& pod);

// ---- interval lists of indexes ----

struct Interval {
  int first, last;
  bool operator==(const Interval&) const = default;
};

class OrderedIntervals {
 public:
  OrderedIntervals() = default;
  // "1,3-5" → [1,1],[3,5]; values >= completions are dropped, bad parts skipped.
  static OrderedIntervals Parse(const std::string& s, int completions);
  // Adds sorted indexes.
  OrderedIntervals WithOrderedIndexes(const std::vector<int>& indexes) const;
  OrderedIntervals Merge(const OrderedIntervals& other) const;
  int Total() const;
  bool Has(int ix) const;
  // "1,3-5,7"; two neighbours are written "1,2", not "1-2".
  std::string String() const;
  const std::vector<Interval>& intervals() const { return v_; }
  bool empty() const { return v_.empty(); }

 private:
  std::vector<Interval> v_;
};

// The first `count` indexes below `completions` not in `taken`.
std::vector<int> FirstPendingIndexes(const OrderedIntervals& taken, int count, int completions);

// ---- podFailurePolicy and successPolicy ----

struct PolicyMatch {
  std::optional<std::string> fail_job_message;  // a FailJob rule matched
  bool count_failed = true;                     // false for Ignore
  std::optional<std::string> action;            // the matched rule's action
};
// Matches a failed pod against spec.podFailurePolicy (first matching rule wins).
PolicyMatch MatchPodFailurePolicy(const Json& job, const Json& pod);
// A message when spec.successPolicy is met by the succeeded indexes.
std::optional<std::string> MatchSuccessPolicy(const Json& job, const OrderedIntervals& succeeded);

// ---- conditions ----

Json NewCondition(const std::string& type, const std::string& status, const std::string& reason,
                  const std::string& message, TimePoint now);
// The condition of `type` in status.conditions (nullptr when absent).
const Json* FindJobCondition(const Json& job, const std::string& type);
bool ConditionTrue(const Json& job, const std::string& type);
// Upstream ensureJobConditionStatus: updates the condition in place when status,
// reason or message differ, appends it when absent unless status is False. Returns
// whether anything changed.
bool EnsureJobConditionStatus(Json& status, const std::string& type, const std::string& cond_status,
                              const std::string& reason, const std::string& message, TimePoint now);
// Complete or Failed is True (upstream util.IsJobFinished).
bool IsJobFinished(const Json& job);
// "Complete" or "Failed" and when it became so; nullopt while the Job runs.
std::optional<std::pair<std::string, TimePoint>> FinishedCondition(const Json& job);

// ---- pod-failure backoff ----

inline constexpr std::chrono::seconds kDefaultPodFailureBackoff{10};
inline constexpr std::chrono::minutes kMaxPodFailureBackoff{10};

struct BackoffRecord {
  std::string key;
  int failures_after_last_success = 0;
  std::optional<TimePoint> last_failure;
  // How long until a replacement pod may be created.
  std::chrono::milliseconds RemainingTime(TimePoint now) const;
};
// How long to wait after `failures` consecutive failures, the last at `last_failure`.
std::chrono::milliseconds RemainingTimeForFailures(int failures, std::optional<TimePoint> last_failure,
                                                   TimePoint now);

// Per Job: failures since the last success (upstream backoffStore).
class BackoffStore {
 public:
  // The record the newly finished pods make of the stored one (not stored yet).
  BackoffRecord NewRecord(const std::string& key, std::vector<Json> succeeded, std::vector<Json> failed) const;
  void Update(const BackoffRecord& r);
  void Remove(const std::string& key);

 private:
  mutable std::mutex mu_;
  std::map<std::string, BackoffRecord> records_;
};

// Pod UIDs whose tracking finalizer the controller removed and has not yet seen gone
// (upstream uidTrackingExpectations).
class FinalizerExpectations {
 public:
  std::set<std::string> Expected(const std::string& key) const;
  void ExpectRemoved(const std::string& key, const std::vector<std::string>& uids);
  void Observed(const std::string& key, const std::string& uid);
  void Delete(const std::string& key);

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::set<std::string>> uids_;
};

}  // namespace kubes::controller::job
