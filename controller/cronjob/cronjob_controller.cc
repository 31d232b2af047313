#include "controller/cronjob/cronjob_controller.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <thread>

#include "client/resources.h"
#include "controller/job/job_utils.h"
#include "controller/worker.h"

namespace kubes::controller {
namespace {

using client::kCronJobs;
using client::kJobs;
using cronjob::Location;
using cronjob::Schedule;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kScheduledTimestampAnnotation[] = "batch.kubernetes.io/cronjob-scheduled-timestamp";

std::string KeyOf(const Json& obj) { return client::Informer::KeyOf(obj); }

// Go's %q for plain strings.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Go's time.RFC1123Z in UTC: "Mon, 02 Jan 2006 15:04:05 +0000".
std::string RFC1123Z(TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

const Json& Spec(const Json& cj) {
  static const Json kEmpty = Json::object();
  auto it = cj.find("spec");
  return it != cj.end() && it->is_object() ? *it : kEmpty;
}

Json& Active(Json& cj) {
  Json& a = cj["status"]["active"];
  if (!a.is_array()) a = Json::array();
  return a;
}

bool InActiveList(Json& cj, const std::string& uid) {
  for (const auto& r : Active(cj)) {
    if (r.value("uid", "") == uid) return true;
  }
  return false;
}

bool InActiveListByName(Json& cj, const std::string& name) {
  for (const auto& r : Active(cj)) {
    if (r.value("name", "") == name && r.value("namespace", "") == NamespaceOf(cj)) return true;
  }
  return false;
}

void DeleteFromActiveList(Json& cj, const std::string& uid) {
  Json kept = Json::array();
  for (const auto& r : Active(cj)) {
    if (r.value("uid", "") != uid) kept.push_back(r);
  }
  cj["status"]["active"] = kept;
}

// An ObjectReference to a Job, as status.active holds them.
Json JobRef(const Json& job) {
  return {{"kind", "Job"},
          {"namespace", NamespaceOf(job)},
          {"name", NameOf(job)},
          {"uid", UidOf(job)},
          {"apiVersion", "batch/v1"},
          {"resourceVersion", job["metadata"].value("resourceVersion", "")}};
}

int64_t Secs(TimePoint t) { return std::chrono::duration_cast<seconds>(t.time_since_epoch()).count(); }

enum class Missed { kNone, kFew, kMany };

struct Recent {
  TimePoint earliest;
  std::optional<TimePoint> most_recent;
  Missed missed = Missed::kNone;
  bool invalid = false;  // two schedule times less than a second apart: nonsense
};

// Upstream mostRecentScheduleTime: the start of the window (lastScheduleTime or the
// creation time, or now - startingDeadlineSeconds if later) and the latest schedule
// time in (window start, now].
Recent MostRecentScheduleTime(const Json& cj, TimePoint now, const Schedule& sched, bool include_deadline) {
  Recent r;
  r.earliest = ParseRFC3339(cj["metadata"].value("creationTimestamp", "")).value_or(now);
  const Json& status = cj.value("status", Json::object());
  if (auto last = ParseRFC3339(status.value("lastScheduleTime", ""))) r.earliest = *last;
  const Json& sds = Spec(cj).value("startingDeadlineSeconds", Json());
  if (include_deadline && sds.is_number_integer()) {
    TimePoint deadline = now - seconds(sds.get<int64_t>());
    if (deadline > r.earliest) r.earliest = deadline;
  }
  auto t1 = sched.Next(r.earliest);
  if (t1 && now < *t1) return r;
  auto t2 = t1 ? sched.Next(*t1) : std::nullopt;
  if (t1 && t2 && now < *t2) {
    r.most_recent = t1;
    return r;
  }
  // Count the missed times roughly (elapsed / interval) rather than walking them all:
  // a stopped clock or controller could leave decades behind.
  int64_t between = t1 && t2 ? std::llround(std::chrono::duration<double>(*t2 - *t1).count()) : 0;
  if (between < 1) {
    r.invalid = true;
    return r;
  }
  int64_t elapsed = Secs(now) - Secs(*t1);
  int64_t missed = elapsed / between + 1;
  TimePoint potential = *t1 + seconds((missed - 2) * between);
  for (auto t = sched.Next(potential); t && *t <= now; t = sched.Next(*t)) r.most_recent = t;
  if (missed > CronJobController::kTooManyMissed) r.missed = Missed::kMany;
  else if (missed > 0) r.missed = Missed::kFew;
  return r;
}

// Jobs are listed oldest first by start time (not started last), then by name.
bool StartedBefore(const Json& a, const Json& b) {
  auto sa = ParseRFC3339(a.value("status", Json::object()).value("startTime", ""));
  auto sb = ParseRFC3339(b.value("status", Json::object()).value("startTime", ""));
  if (!sa && sb) return false;
  if (sa && !sb) return true;
  if (sa == sb) return NameOf(a) < NameOf(b);
  return *sa < *sb;
}

}  // namespace

CronJobController::CronJobController(client::Client* c, client::Informer& jobs, client::Informer& cronjobs,
                                     const Clock& clock)
    : client_(c), jobs_(jobs), cronjobs_(cronjobs), clock_(clock), recorder_(c, "cronjob-controller", "", clock) {
  jobs_.AddIndex(client::Informer::kNamespaceIndex);
  jobs_.AddHandlers({.on_add = [this](const Json& j) { OnJobChange(j); },
                     .on_update =
                         [this](const Json& old_job, const Json& j) {
                           if (GetControllerOf(old_job) != GetControllerOf(j)) OnJobChange(old_job);
                           OnJobChange(j);
                         },
                     .on_delete = [this](const Json& j) { OnJobChange(j); }});
  cronjobs_.AddHandlers({.on_add = [this](const Json& cj) { queue_.Add(KeyOf(cj)); },
                         .on_update = [this](const Json& old_cj, const Json& cj) { OnCronJobUpdated(old_cj, cj); },
                         .on_delete = [this](const Json& cj) { queue_.Add(KeyOf(cj)); }});
}

void CronJobController::Run(const std::atomic<bool>& stop) {
  while (!stop && !(jobs_.HasSynced() && cronjobs_.HasSynced())) std::this_thread::sleep_for(milliseconds(10));
  RunWorker(queue_, stop, milliseconds(200), [this](const std::string& key) -> Status {
    auto requeue = SyncCronJob(key);
    if (!requeue.ok()) return requeue.status();
    if (*requeue) queue_.AddAfter(key, std::max(**requeue, milliseconds(0)));
    return Status::OK();
  });
}

std::optional<Json> CronJobController::ResolveControllerRef(const Json& job) {
  auto ref = GetControllerOf(job);
  if (!ref || ref->value("kind", "") != "CronJob") return std::nullopt;
  Json cj;
  if (!cronjobs_.Get(NamespaceOf(job) + "/" + ref->value("name", ""), &cj) || UidOf(cj) != ref->value("uid", "")) {
    return std::nullopt;
  }
  return cj;
}

void CronJobController::OnJobChange(const Json& job) {
  if (auto cj = ResolveControllerRef(job)) queue_.Add(KeyOf(*cj));
}

// A new schedule or time zone moves the next look; any other change is looked at now.
void CronJobController::OnCronJobUpdated(const Json& old_cj, const Json& cj) {
  if (Spec(old_cj).value("schedule", "") == Spec(cj).value("schedule", "") &&
      Spec(old_cj).value("timeZone", Json()) == Spec(cj).value("timeZone", Json())) {
    queue_.Add(KeyOf(cj));
    return;
  }
  auto sched = ParseSchedule(cj, false);
  if (!sched.ok()) {
    recorder_.Event(cj, "Warning", "UnParseableCronJobSchedule",
                    "unparseable schedule for cronjob: " + Spec(cj).value("schedule", ""));
    return;
  }
  if (auto d = NextScheduleDuration(cj, clock_.Now(), *sched)) queue_.AddAfter(KeyOf(cj), std::max(*d, milliseconds(0)));
}

Result<Schedule> CronJobController::ParseSchedule(const Json& cj, bool record_events) {
  std::string spec = Spec(cj).value("schedule", "");
  std::shared_ptr<const Location> zone = Location::Local();
  if (spec.find("TZ") != std::string::npos) {
    if (record_events) {
      recorder_.Event(cj, "Warning", "UnsupportedSchedule",
                      "CRON_TZ or TZ used in schedule " + Quote(spec) +
                          " is not officially supported, see "
                          "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details");
    }
  } else if (const Json& tz = Spec(cj).value("timeZone", Json()); tz.is_string()) {
    if (auto loc = Location::Load(tz.get<std::string>()); loc.ok()) zone = *loc;
  }
  return Schedule::Parse(spec, zone);
}

CronJobController::Requeue CronJobController::NextScheduleDuration(const Json& cj, TimePoint now,
                                                                   const Schedule& sched) {
  Recent r = MostRecentScheduleTime(cj, now, sched, false);
  TimePoint from = now;
  if (!r.invalid && !r.most_recent) from = r.missed == Missed::kNone ? r.earliest : now;
  else if (!r.invalid) from = *r.most_recent;
  auto next = sched.Next(from);
  if (!next) return std::nullopt;
  return std::chrono::duration_cast<milliseconds>(*next + kNextScheduleDelta - now);
}

Result<std::optional<TimePoint>> CronJobController::NextScheduleTime(const Json& cj, TimePoint now,
                                                                     const Schedule& sched) {
  Recent r = MostRecentScheduleTime(cj, now, sched, true);
  if (r.invalid) return Invalid("time difference between two schedules is less than 1 second");
  if (!r.most_recent || *r.most_recent > now) return std::optional<TimePoint>();
  if (r.missed == Missed::kMany) {
    recorder_.Event(cj, "Warning", "TooManyMissedTimes",
                    "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew");
  }
  return r.most_recent;
}

Result<Json> CronJobController::JobFromTemplate(const Json& cj, TimePoint scheduled) {
  const Json& tmpl = Spec(cj).value("jobTemplate", Json::object());
  const Json& tmeta = tmpl.value("metadata", Json::object());
  // The scheduled time in the CronJob's zone (UTC without one).
  const Json& tz = Spec(cj).value("timeZone", Json());
  auto zone = Location::Load(tz.is_string() ? tz.get<std::string>() : "");
  if (!zone.ok()) return zone.status();
  Json annotations = tmeta.value("annotations", Json::object());
  annotations[kScheduledTimestampAnnotation] = (*zone)->FormatRFC3339(Secs(scheduled));
  Json meta = {{"name", NameOf(cj) + "-" + std::to_string(Secs(scheduled) / 60)},
               {"namespace", NamespaceOf(cj)},
               {"annotations", annotations},
               {"ownerReferences", Json::array({ControllerRef(cj)})}};
  if (tmeta.contains("labels")) meta["labels"] = tmeta["labels"];
  return Json{{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", meta}, {"spec", tmpl.value("spec", Json::object())}};
}

bool CronJobController::DeleteJob(Json& cj, const Json& job) {
  Status s = client_->Delete(kJobs, NamespaceOf(job), NameOf(job), {{"propagationPolicy", "Background"}});
  if (!s.ok()) {
    recorder_.Event(cj, "Warning", "FailedDelete", "Deleted job: " + s.message());
    return false;
  }
  DeleteFromActiveList(cj, UidOf(job));
  recorder_.Event(cj, "Normal", "SuccessfulDelete", "Deleted job " + NameOf(job));
  return true;
}

bool CronJobController::RemoveOldestJobs(Json& cj, std::vector<Json> jobs, int64_t keep) {
  int64_t n = static_cast<int64_t>(jobs.size()) - keep;
  if (n <= 0) return false;
  std::sort(jobs.begin(), jobs.end(), StartedBefore);
  bool changed = false;
  for (int64_t i = 0; i < n; ++i) changed |= DeleteJob(cj, jobs[i]);
  return changed;
}

bool CronJobController::CleanupFinishedJobs(Json& cj, const std::vector<Json>& jobs) {
  const Json& ok_limit = Spec(cj).value("successfulJobsHistoryLimit", Json());
  const Json& failed_limit = Spec(cj).value("failedJobsHistoryLimit", Json());
  if (!ok_limit.is_number_integer() && !failed_limit.is_number_integer()) return false;
  std::vector<Json> succeeded, failed;
  for (const auto& j : jobs) {
    auto finished = job::FinishedCondition(j);
    if (!finished) continue;
    (finished->first == "Complete" ? succeeded : failed).push_back(j);
  }
  bool changed = false;
  if (ok_limit.is_number_integer()) changed |= RemoveOldestJobs(cj, succeeded, ok_limit.get<int64_t>());
  if (failed_limit.is_number_integer()) changed |= RemoveOldestJobs(cj, failed, failed_limit.get<int64_t>());
  return changed;
}

Result<std::optional<milliseconds>> CronJobController::SyncCronJob(const std::string& key) {
  Json cj;
  if (!cronjobs_.Get(key, &cj)) return Requeue();
  // Every Job naming this CronJob as controller, including ones whose labels changed.
  std::vector<Json> jobs;
  // (Upstream matches the controller by name, not uid; so do we.)
  for (const auto& j : jobs_.ByIndex(client::Informer::kNamespaceIndex, NamespaceOf(cj))) {
    auto ref = GetControllerOf(*j);
    if (ref && ref->value("name", "") == NameOf(cj)) jobs.push_back(*j);
  }
  Json working = cj;
  if (!working.contains("status") || !working["status"].is_object()) working["status"] = Json::object();
  bool update_status = CleanupFinishedJobs(working, jobs);
  bool update_after_sync = false;
  auto requeue = Reconcile(working, jobs, &update_after_sync);
  if (update_status || update_after_sync) {
    Json& status = working["status"];
    if (status.contains("active") && status["active"].empty()) status.erase("active");
    auto r = client_->Update(kCronJobs, NamespaceOf(working), working, "status");
    if (!r.ok()) return r.status();
  }
  if (requeue.ok() && *requeue) return requeue;
  if (!requeue.ok()) return requeue.status();
  return Requeue();
}

Result<CronJobController::Requeue> CronJobController::Reconcile(Json& cj, const std::vector<Json>& jobs,
                                                                bool* update_status) {
  TimePoint now = clock_.Now();
  std::set<std::string> children;
  for (const auto& j : jobs) {
    std::string uid = UidOf(j);
    children.insert(uid);
    bool found = InActiveList(cj, uid);
    if (!found && !job::IsJobFinished(j)) {
      // Perhaps our own status update is not in the informer yet: ask the apiserver.
      auto fresh = client_->Get(kCronJobs, NamespaceOf(cj), NameOf(cj));
      if (!fresh.ok()) return fresh.status();
      if (!fresh->contains("status") || !(*fresh)["status"].is_object()) (*fresh)["status"] = Json::object();
      if (InActiveList(*fresh, uid)) {
        cj = *fresh;
        continue;
      }
      recorder_.Event(cj, "Warning", "UnexpectedJob",
                      "Saw a job that the controller did not create or forgot: " + NameOf(j));
    } else if (found && job::IsJobFinished(j)) {
      DeleteFromActiveList(cj, uid);
      recorder_.Event(cj, "Normal", "SawCompletedJob",
                      "Saw completed job: " + NameOf(j) + ", status: " + job::FinishedCondition(j)->first);
      *update_status = true;
    } else if (job::ConditionTrue(j, "Complete")) {
      // Finished Jobs need not be in the active list to move lastSuccessfulTime.
      auto done = ParseRFC3339(j.value("status", Json::object()).value("completionTime", ""));
      auto last = ParseRFC3339(cj["status"].value("lastSuccessfulTime", ""));
      if (done && (!last || *done > *last)) {
        cj["status"]["lastSuccessfulTime"] = FormatRFC3339(*done);
        *update_status = true;
      }
    }
  }
  // An active Job that is gone would block a Forbid CronJob forever.
  for (const auto& ref : Json(Active(cj))) {
    if (children.count(ref.value("uid", ""))) continue;
    auto got = client_->Get(kJobs, ref.value("namespace", ""), ref.value("name", ""));
    if (got.ok()) continue;  // in the apiserver, not yet in the informer
    if (got.status().code() != Code::kNotFound) return got.status();
    recorder_.Event(cj, "Normal", "MissingJob", "Active job went missing: " + ref.value("name", ""));
    DeleteFromActiveList(cj, ref.value("uid", ""));
    *update_status = true;
  }
  if (IsBeingDeleted(cj)) return Requeue();

  const Json& tz = Spec(cj).value("timeZone", Json());
  if (tz.is_string()) {
    auto loc = Location::Load(tz.get<std::string>());
    if (!loc.ok()) {
      recorder_.Event(cj, "Warning", "UnknownTimeZone",
                      "invalid timeZone: " + Quote(tz.get<std::string>()) + ": " + loc.status().message());
      return Requeue();
    }
  }
  if (Spec(cj).value("suspend", false)) return Requeue();
  auto sched = ParseSchedule(cj, true);
  if (!sched.ok()) {
    recorder_.Event(cj, "Warning", "UnparseableSchedule",
                    "unparseable schedule: " + Quote(Spec(cj).value("schedule", "")) + " : " + sched.status().message());
    return Requeue();
  }
  auto scheduled = NextScheduleTime(cj, now, *sched);
  if (!scheduled.ok()) {
    recorder_.Event(cj, "Warning", "InvalidSchedule",
                    "invalid schedule: " + Spec(cj).value("schedule", "") + " : " + scheduled.status().message());
    return Requeue();
  }
  if (!*scheduled) return NextScheduleDuration(cj, now, *sched);  // nothing due yet
  TimePoint at = **scheduled;

  const Json& sds = Spec(cj).value("startingDeadlineSeconds", Json());
  if (sds.is_number_integer() && at + seconds(sds.get<int64_t>()) < now) {
    recorder_.Event(cj, "Warning", "MissSchedule", "Missed scheduled time to start a job: " + RFC1123Z(at));
    return NextScheduleDuration(cj, now, *sched);
  }
  auto job = JobFromTemplate(cj, at);
  if (!job.ok()) return job.status();
  auto last = ParseRFC3339(cj["status"].value("lastScheduleTime", ""));
  if (InActiveListByName(cj, NameOf(*job)) || (last && *last == at)) return NextScheduleDuration(cj, now, *sched);
  std::string policy = Spec(cj).value("concurrencyPolicy", "Allow");
  if (policy == "Forbid" && !Active(cj).empty()) {
    recorder_.Event(cj, "Normal", "JobAlreadyActive",
                    "Not starting job because prior execution is running and concurrency policy is Forbid");
    return NextScheduleDuration(cj, now, *sched);
  }
  if (policy == "Replace") {
    for (const auto& ref : Json(Active(cj))) {
      auto running = client_->Get(kJobs, ref.value("namespace", ""), ref.value("name", ""));
      if (!running.ok()) {
        recorder_.Event(cj, "Warning", "FailedGet", "Get job: " + running.status().message());
        return running.status();
      }
      if (!DeleteJob(cj, *running)) {
        return Internal("could not replace job " + NamespaceOf(*running) + "/" + NameOf(*running));
      }
      *update_status = true;
    }
  }

  auto created = client_->Create(kJobs, NamespaceOf(cj), *job);
  if (!created.ok() && created.status().code() == Code::kAlreadyExists) {
    // Created before, but the status update that should have followed was lost.
    auto existing = client_->Get(kJobs, NamespaceOf(cj), NameOf(*job));
    if (!existing.ok()) return existing.status();
    auto ref = GetControllerOf(*existing);
    if (!ref || ref->value("uid", "") != UidOf(cj) || InActiveList(cj, UidOf(*existing))) return Requeue();
    created = std::move(existing);
  } else if (!created.ok()) {
    if (created.status().message().find("because it is being terminated") != std::string::npos) return created.status();
    recorder_.Event(cj, "Warning", "FailedCreate", "Error creating job: " + created.status().message());
    return created.status();
  } else {
    recorder_.Event(cj, "Normal", "SuccessfulCreate", "Created job " + NameOf(*created));
  }
  // The name is the lock: a crash before this status update cannot start a second Job
  // for the same time.
  Active(cj).push_back(JobRef(*created));
  cj["status"]["lastScheduleTime"] = FormatRFC3339(at);
  *update_status = true;
  return NextScheduleDuration(cj, now, *sched);
}

}  // namespace kubes::controller
