// Strategies of batch/v1 kinds (upstream pkg/registry/batch/{job,cronjob}/strategy.go,
// pkg/apis/batch/v1/defaults.go).
#include "apiserver/registry/strategies.h"

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
// (manualSelector), as upstream's job strategy generates it.
void GenerateJobSelector(Json& obj) {
  Json& spec = obj["spec"];
  if (spec.value("manualSelector", false)) return;
  std::string uid = obj["metadata"].value("uid", "");
  std::string name = obj["metadata"].value("name", "");
  Json& labels = spec["template"]["metadata"]["labels"];
  labels["batch.kubernetes.io/controller-uid"] = uid;
  labels["batch.kubernetes.io/job-name"] = name;
  labels["controller-uid"] = uid;
  labels["job-name"] = name;
  if (!spec.contains("selector")) spec["selector"] = {{"matchLabels", {{"batch.kubernetes.io/controller-uid", uid}}}};
}

void ValidateJob(const Json& obj, const Json* old, ErrorList& errs) {
  const Json& spec = obj.value("spec", Json::object());
  Path p("spec");
  for (const char* f : {"parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"}) {
    if (spec.contains(f) && spec[f].is_number_integer() && spec[f].get<int64_t>() < 0) {
      errs.push_back(validation::InvalidValue(p.Child(f), spec[f], "must be greater than or equal to 0"));
    }
  }
  const Json& tmpl_spec = spec.value("template", Json::object()).value("spec", Json::object());
  std::string restart = tmpl_spec.value("restartPolicy", "");
  if (restart != "OnFailure" && restart != "Never") {
    errs.push_back(validation::NotSupported(p.Child("template").Child("spec").Child("restartPolicy"), restart,
                                            {"OnFailure", "Never"}));
  }
  ValidatePodSpec(tmpl_spec, p.Child("template").Child("spec"), errs);
  if (spec.contains("selector") && spec.value("manualSelector", false)) {
    ValidateSelectorMatchesTemplate(spec, p, errs);
  }
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
    r.validate = [](const Json& obj, const Json* old, ErrorList& errs) {
      const Json& spec = obj.value("spec", Json::object());
      if (spec.value("schedule", "").empty()) errs.push_back(validation::Required(Path("spec").Child("schedule")));
    };
  }
}

}  // namespace kubes::apiserver
