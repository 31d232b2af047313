// CronJobController — creates a Job from a CronJob's jobTemplate each time its schedule
// comes due (upstream: pkg/controller/cronjob/cronjob_controllerv2.go and utils.go,
// Kubernetes v1.32).
//
// SyncCronJob(key) looks at the CronJob and the Jobs it controls:
//  1. history: finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit
//     are deleted, oldest first;
//  2. status.active: finished Jobs leave it (SawCompletedJob), vanished ones too
//     (MissingJob); lastSuccessfulTime follows the newest completion;
//  3. unless suspended or being deleted: the most recent schedule time not yet acted
//     on (after lastScheduleTime, or the creation time) — if it is within
//     startingDeadlineSeconds, and concurrencyPolicy allows (Forbid skips while a Job
//     runs, Replace deletes the running ones), a Job named "<cronjob>-<scheduled time in
//     minutes since the epoch>" is created. The name makes a repeated attempt for the
//     same time fail with AlreadyExists instead of running twice.
// It returns when to look again — 100 ms after the next schedule time — and the
// worker requeues the key for then: there is no polling loop.
//
// Schedules are read in spec.timeZone when set, else in the controller's local zone
// (as upstream); see schedule.h for the syntax and daylight-saving behaviour.
//
// Thread-safety: Run owns its thread; construct, Run (blocks), stop via the flag.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/informer.h"
#include "client/record.h"
#include "client/workqueue.h"
#include "controller/controller_utils.h"
#include "controller/cronjob/schedule.h"
#include "util/time.h"

namespace kubes::controller {

class CronJobController {
 public:
  // Padding after a schedule time, for clock skew (upstream nextScheduleDelta).
  static constexpr std::chrono::milliseconds kNextScheduleDelta{100};
  // More missed start times than this earn a TooManyMissedTimes warning.
  static constexpr int kTooManyMissed = 100;

  // jobs and cronjobs: informers over all namespaces, run by the caller.
  CronJobController(client::Client* c, client::Informer& jobs, client::Informer& cronjobs,
                    const Clock& clock = RealClock::Get());
  void Run(const std::atomic<bool>& stop);

  // key: "namespace/name". Returns how long until the CronJob needs another look
  // (nullopt: not until it changes).
  Result<std::optional<std::chrono::milliseconds>> SyncCronJob(const std::string& key);

 private:
  using Requeue = std::optional<std::chrono::milliseconds>;
  // The upstream syncCronJob: active list, then maybe a new Job.
  Result<Requeue> Reconcile(Json& cj, const std::vector<Json>& jobs, bool* update_status);
  bool CleanupFinishedJobs(Json& cj, const std::vector<Json>& jobs);
  bool RemoveOldestJobs(Json& cj, std::vector<Json> jobs, int64_t keep);
  bool DeleteJob(Json& cj, const Json& job);
  // spec.schedule parsed in spec.timeZone; with record_events, a TZ= prefix is
  // reported as UnsupportedSchedule.
  Result<cronjob::Schedule> ParseSchedule(const Json& cj, bool record_events);
  // The most recent schedule time at or before now that is due, or nullopt.
  Result<std::optional<TimePoint>> NextScheduleTime(const Json& cj, TimePoint now, const cronjob::Schedule& sched);
  Requeue NextScheduleDuration(const Json& cj, TimePoint now, const cronjob::Schedule& sched);
  Result<Json> JobFromTemplate(const Json& cj, TimePoint scheduled);
  std::optional<Json> ResolveControllerRef(const Json& job);
  void OnJobChange(const Json& job);
  void OnCronJobUpdated(const Json& old_cj, const Json& cj);

  client::Client* client_;
  client::Informer& jobs_;
  client::Informer& cronjobs_;
  const Clock& clock_;
  client::WorkQueue queue_;
  client::EventRecorder recorder_;
};

}  // namespace kubes::controller
