// Columns of batch/v1 kinds (upstream printers.go: printJob, printCronJob).
#include "apiserver/printers/printers.h"

namespace kubes::apiserver {
namespace {

using namespace printers;

// STATUS of a Job (v1.32): the terminal conditions first, then deletion, then the
// conditions of a Job on its way somewhere. (SuccessCriteriaMet is only shown from
// v1.34 on.)
std::string JobStatus(const Json& job) {
  const Json& status = Get(job, "status");
  if (ConditionTrue(status, "Complete")) return "Complete";
  if (ConditionTrue(status, "Failed")) return "Failed";
  if (Has(Get(job, "metadata", "deletionTimestamp"))) return "Terminating";
  if (ConditionTrue(status, "Suspended")) return "Suspended";
  if (ConditionTrue(status, "FailureTarget")) return "FailureTarget";
  return "Running";
}

// COMPLETIONS: "2/3"; without spec.completions any one success completes the Job, so
// "0/1", or "0/1 of 4" when several pods run in parallel.
std::string JobCompletions(const Json& job) {
  const Json& spec = Get(job, "spec");
  std::string succeeded = std::to_string(Int(Get(job, "status", "succeeded")));
  if (Has(Get(spec, "completions"))) return succeeded + "/" + std::to_string(Int(Get(spec, "completions")));
  int64_t parallelism = Int(Get(spec, "parallelism"));
  if (parallelism > 1) return succeeded + "/1 of " + std::to_string(parallelism);
  return succeeded + "/1";
}

// DURATION: from start to completion, or until now while the Job runs; "" before it starts.
std::string JobDuration(const Json& job, TimePoint now) {
  const Json& status = Get(job, "status");
  if (!Has(Get(status, "startTime"))) return "";
  if (!Has(Get(status, "completionTime"))) return Since(Get(status, "startTime"), now);
  return Between(Get(status, "startTime"), Get(status, "completionTime"));
}

Json JobRow(const Json& o, TimePoint now) {
  const Json& spec = Get(o, "spec");
  const Json& podspec = Get(spec, "template", "spec");
  return Json::array({Name(o), JobStatus(o), JobCompletions(o), JobDuration(o, now), Age(o, now),
                      ContainerNames(podspec), ContainerImages(podspec), FormatLabelSelector(Get(spec, "selector"))});
}

Json CronJobRow(const Json& o, TimePoint now) {
  const Json& spec = Get(o, "spec");
  const Json& last_schedule = Get(o, "status", "lastScheduleTime");
  const Json& job_spec = Get(spec, "jobTemplate", "spec");
  const Json& podspec = Get(job_spec, "template", "spec");
  const Json& tz = Get(spec, "timeZone");
  return Json::array({Name(o), Str(Get(spec, "schedule")), tz.is_string() ? Str(tz) : "<none>",
                      BoolPtr(Get(spec, "suspend")), Count(Get(o, "status", "active")),
                      Has(last_schedule) ? Since(last_schedule, now) : "<none>", Age(o, now), ContainerNames(podspec),
                      ContainerImages(podspec), FormatLabelSelector(Get(job_spec, "selector"))});
}

}  // namespace

void RegisterBatchPrinters() {
  Register("batch", "Job",
           {{NameColumn(), Col("Status", "string", "Status of the job."),
             Col("Completions", "string", "The number of pods which reached phase Succeeded."),
             Col("Duration", "string", "Time required to complete the job."), AgeColumn(),
             Wide("Containers", "string", "Names of each container in the template."),
             Wide("Images", "string", "Images referenced by each container in the template."),
             Wide("Selector", "string", "A label query over pods that should match the pod count.")},
            JobRow});
  Register("batch", "CronJob",
           {{NameColumn(), Col("Schedule", "string", "The schedule in Cron format."),
             Col("Timezone", "string", "The time zone name for the given schedule."),
             Col("Suspend", "boolean", "This flag tells the controller to suspend subsequent executions."),
             Col("Active", "integer", "A list of pointers to currently running jobs."),
             Col("Last Schedule", "string", "Information when was the last time the job was successfully scheduled."),
             AgeColumn(), Wide("Containers", "string", "Names of each container in the template."),
             Wide("Images", "string", "Images referenced by each container in the template."),
             Wide("Selector", "string", "A label query over pods that should match the pod count.")},
            CronJobRow});
}

}  // namespace kubes::apiserver
