// Strategies of batch/v1 kinds (upstream pkg/registry/batch/{job,cronjob}/strategy.go,
// pkg/apis/batch/v1/defaults.go).
#include <algorithm>
#include <cctype>

#include "apiserver/registry/strategies.h"
#include "controller/cronjob/schedule.h"

namespace kubes::apiserver {
namespace {

using validation::ErrorList;
using validation::Path;

void DefaultJobSpec(Json& spec) {
  if (!spec.is_object()) return;
  if (!spec.contains("completions") && !spec.contains("parallelism")) {
    spec["completions"] = 1;
    spec["parallelism"] = 1;
  }
  if (!spec.contains("parallelism")) spec["parallelism"] = 1;
  if (!spec.contains("backoffLimit")) spec["backoffLimit"] = spec.contains("backoffLimitPerIndex") ? 2147483647 : 6;
  if (!spec.contains("completionMode")) spec["completionMode"] = "NonIndexed";
  if (!spec.contains("suspend")) spec["suspend"] = false;
  if (!spec.contains("manualSelector") || !spec["manualSelector"].is_boolean()) { /* stays unset */ }
  if (!spec.contains("podReplacementPolicy")) {
    spec["podReplacementPolicy"] = spec.contains("podFailurePolicy") ? "Failed" : "TerminatingOrFailed";
  }
  if (spec.contains("template") && spec["template"].contains("spec")) DefaultPodSpec(spec["template"]["spec"]);
}

// A Job selects its Pods by its own uid unless the user chose a selector
// (manualSelector), as upstream's job strategy generates it: the template gets the
// job-name and controller-uid labels (both spellings) unless the user set them — a
// conflicting value then fails validation — and the selector matches the uid.
void GenerateJobSelector(Json& obj) {
  Json& spec = obj["spec"];
  if (spec.value("manualSelector", false)) return;
  std::string uid = obj["metadata"].value("uid", "");
  std::string name = obj["metadata"].value("name", "");
  Json& labels = spec["template"]["metadata"]["labels"];
  if (!labels.is_object()) labels = Json::object();
  for (const char* key : {"job-name", "batch.kubernetes.io/job-name"}) {
    if (!labels.contains(key)) labels[key] = name;
  }
  for (const char* key : {"controller-uid", "batch.kubernetes.io/controller-uid"}) {
    if (!labels.contains(key)) labels[key] = uid;
  }
  Json& selector = spec["selector"];
  if (!selector.is_object()) selector = Json::object();
  Json& match = selector["matchLabels"];
  if (!match.is_object()) match = Json::object();
  if (!match.contains("batch.kubernetes.io/controller-uid")) match["batch.kubernetes.io/controller-uid"] = uid;
}

void ValidateNonNegative(const Json& spec, const Path& p, const std::vector<const char*>& fields, ErrorList& errs) {
  for (const char* f : fields) {
    if (spec.contains(f) && spec[f].is_number_integer() && spec[f].get<int64_t>() < 0) {
      errs.push_back(validation::InvalidValue(p.Child(f), spec[f], "must be greater than or equal to 0"));
    }
  }
}

// A JobSpec, of a Job or of a CronJob's jobTemplate (upstream validateJobSpec).
void ValidateJobSpec(const Json& spec, const Path& p, ErrorList& errs) {
  ValidateNonNegative(spec, p,
                      {"parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished",
                       "backoffLimitPerIndex", "maxFailedIndexes"},
                      errs);
  bool indexed = spec.value("completionMode", "") == "Indexed";
  if (indexed && !spec.contains("completions")) {
    errs.push_back(validation::Required(p.Child("completions"), "when completion mode is Indexed"));
  }
  if (spec.contains("backoffLimitPerIndex") && !indexed) {
    errs.push_back(validation::InvalidValue(p.Child("backoffLimitPerIndex"), spec["backoffLimitPerIndex"],
                                            "requires indexed completion mode"));
  }
  if (spec.contains("maxFailedIndexes") && !spec.contains("backoffLimitPerIndex")) {
    errs.push_back(validation::Required(p.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"));
  }
  if (spec.contains("successPolicy") && !indexed) {
    errs.push_back(validation::InvalidValue(p.Child("completionMode"), spec.value("completionMode", "NonIndexed"),
                                            "requires indexed completion mode"));
  }
  const Json& tmpl_spec = spec.value("template", Json::object()).value("spec", Json::object());
  std::string restart = tmpl_spec.value("restartPolicy", "");
  if (restart != "OnFailure" && restart != "Never") {
    errs.push_back(validation::NotSupported(p.Child("template").Child("spec").Child("restartPolicy"), restart,
                                            {"OnFailure", "Never"}));
  }
  ValidatePodSpec(tmpl_spec, p.Child("template").Child("spec"), errs);
}

void ValidateJob(const Json& obj, const Json* old, ErrorList& errs) {
  const Json& spec = obj.value("spec", Json::object());
  Path p("spec");
  ValidateJobSpec(spec, p, errs);
  // Generated or chosen, the selector must match the template's labels (a template
  // label that contradicts a generated one fails here).
  if (spec.contains("selector")) ValidateSelectorMatchesTemplate(spec, p, errs);
  if (old) {
    // The pod template is fixed once the Job exists; a suspended Job may still change
    // where its Pods go (upstream's mutable scheduling directives).
    auto strip = [&](Json tmpl) {
      if (spec.value("suspend", false)) {
        for (const char* f : {"nodeSelector", "tolerations", "affinity", "schedulingGates"}) tmpl["spec"].erase(f);
        tmpl["metadata"].erase("labels");
        tmpl["metadata"].erase("annotations");
      }
      return tmpl;
    };
    const Json& old_tmpl = old->value("spec", Json::object()).value("template", Json::object());
    const Json& new_tmpl = spec.value("template", Json::object());
    if (strip(new_tmpl) != strip(old_tmpl)) {
      auto err = validation::InvalidValue(p.Child("template"), "core.PodTemplateSpec{...}", "field is immutable");
      err.raw_value = true;
      errs.push_back(std::move(err));
    }
  }
}

// Upstream validTimeZoneCharacters, per path component.
bool ValidTimeZonePart(const std::string& part) {
  if (part.empty() || part.size() > 14 || part == "." || part == ".." || part[0] == '-') return false;
  return std::all_of(part.begin(), part.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '+';
  });
}

void ValidateTimeZone(const Json& tz, const Path& p, ErrorList& errs) {
  if (!tz.is_string()) return;
  std::string name = tz.get<std::string>();
  if (name.empty()) {
    errs.push_back(validation::InvalidValue(p, tz, "timeZone must be nil or non-empty string"));
    return;
  }
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    if (!ValidTimeZonePart(name.substr(start, slash == std::string::npos ? std::string::npos : slash - start))) {
      errs.push_back(validation::InvalidValue(p, tz, "unknown time zone " + name));
      return;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "local") {
    errs.push_back(validation::InvalidValue(
        p, tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"));
  }
  auto loc = controller::cronjob::Location::Load(name);
  if (!loc.ok()) errs.push_back(validation::InvalidValue(p, tz, loc.status().message()));
}

// Upstream ValidateCronJobCreate/Update: a schedule robfig/cron parses, no TZ= in it
// (spec.timeZone instead), a known zone, and a jobTemplate that makes a valid Job.
void ValidateCronJob(const Json& obj, const Json* old, ErrorList& errs) {
  const Json& spec = obj.value("spec", Json::object());
  Path p("spec");
  std::string schedule = spec.value("schedule", "");
  if (schedule.empty()) {
    errs.push_back(validation::Required(p.Child("schedule")));
  } else {
    auto parsed = controller::cronjob::Schedule::Parse(schedule, controller::cronjob::Location::UTC());
    if (!parsed.ok()) errs.push_back(validation::InvalidValue(p.Child("schedule"), schedule, parsed.status().message()));
    bool allow_tz = old && old->value("spec", Json::object()).value("schedule", "").find("TZ") != std::string::npos;
    bool has_tz = schedule.find("TZ") != std::string::npos;
    if (allow_tz && has_tz && spec.contains("timeZone")) {
      errs.push_back(validation::InvalidValue(p.Child("schedule"), schedule,
                                              "cannot use both timeZone field and TZ or CRON_TZ in schedule"));
    } else if (!allow_tz && has_tz) {
      errs.push_back(validation::InvalidValue(p.Child("schedule"), schedule,
                                              "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
    }
  }
  ValidateNonNegative(spec, p, {"startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"}, errs);
  const Json& tz = spec.value("timeZone", Json());
  if (!old || old->value("spec", Json::object()).value("timeZone", Json()) != tz) {
    ValidateTimeZone(tz, p.Child("timeZone"), errs);
  }
  const Json& job_spec = spec.value("jobTemplate", Json::object()).value("spec", Json::object());
  Path jp = p.Child("jobTemplate").Child("spec");
  ValidateJobSpec(job_spec, jp, errs);
  if (job_spec.contains("selector")) {
    errs.push_back(validation::InvalidValue(jp.Child("selector"), job_spec["selector"], "`selector` will be auto-generated"));
  }
  if (job_spec.value("manualSelector", false)) {
    errs.push_back(validation::NotSupported(jp.Child("manualSelector"), true, {"nil", "false"}));
  }
  // The controller appends "-<11 characters>" to make Job names of at most 63.
  std::string name = obj.value("metadata", Json::object()).value("name", "");
  if (!old && name.size() > 52) {
    errs.push_back(validation::InvalidValue(Path("metadata").Child("name"), name, "must be no more than 52 characters"));
  }
}

}  // namespace

void ApplyBatchStrategy(ResourceInfo& r) {
  r.tracks_generation = true;
  if (r.kind == "Job") {
    r.default_object = [](Json& obj) {
      if (obj.contains("spec")) DefaultJobSpec(obj["spec"]);
      // The Job's labels default to its template's.
      Json labels = obj.value("spec", Json::object()).value("template", Json::object()).value("metadata", Json::object()).value("labels", Json::object());
      if (!obj["metadata"].contains("labels") && !labels.empty()) obj["metadata"]["labels"] = labels;
    };
    r.prepare_for_create = GenerateJobSelector;
    r.validate = ValidateJob;
  } else if (r.kind == "CronJob") {
    r.default_object = [](Json& obj) {
      Json& spec = obj["spec"];
      if (!spec.is_object()) return;
      Json& tmpl = spec["jobTemplate"]["spec"]["template"];
      if (tmpl.is_object() && tmpl.contains("spec")) DefaultPodSpec(tmpl["spec"]);
    };
    r.validate = ValidateCronJob;
  }
}

}  // namespace kubes::apiserver
