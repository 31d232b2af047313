// Strategies of apps/v1 kinds (upstream pkg/registry/apps/*/strategy.go,
// pkg/apis/apps/v1/defaults.go, pkg/apis/apps/validation/validation.go).
#include "apiserver/registry/strategies.h"

namespace kubes::apiserver {
namespace {

using validation::ErrorList;
using validation::Path;

void DefaultTemplate(Json& spec) {
  if (spec.contains("template") && spec["template"].is_object() && spec["template"].contains("spec")) {
    DefaultPodSpec(spec["template"]["spec"]);
  }
}

void DefaultDeployment(Json& obj) {
  Json& spec = obj["spec"];
  if (!spec.is_object()) return;
  if (!spec.contains("strategy")) spec["strategy"] = Json::object();
  if (!spec["strategy"].contains("type")) spec["strategy"]["type"] = "RollingUpdate";
  if (spec["strategy"]["type"] == "RollingUpdate" && !spec["strategy"].contains("rollingUpdate")) {
    spec["strategy"]["rollingUpdate"] = Json::object();  // its 25% defaults come from the schema
  }
  DefaultTemplate(spec);
}

void DefaultDaemonSet(Json& obj) {
  Json& spec = obj["spec"];
  if (!spec.is_object()) return;
  if (!spec.contains("updateStrategy")) spec["updateStrategy"] = Json::object();
  if (!spec["updateStrategy"].contains("type")) spec["updateStrategy"]["type"] = "RollingUpdate";
  if (spec["updateStrategy"]["type"] == "RollingUpdate" && !spec["updateStrategy"].contains("rollingUpdate")) {
    spec["updateStrategy"]["rollingUpdate"] = Json::object();
  }
  DefaultTemplate(spec);
}

void DefaultStatefulSet(Json& obj) {
  Json& spec = obj["spec"];
  if (!spec.is_object()) return;
  if (!spec.contains("updateStrategy")) spec["updateStrategy"] = Json::object();
  if (!spec["updateStrategy"].contains("type")) {
    spec["updateStrategy"]["type"] = "RollingUpdate";
    if (!spec["updateStrategy"].contains("rollingUpdate")) spec["updateStrategy"]["rollingUpdate"] = Json::object();
  }
  if (!spec.contains("persistentVolumeClaimRetentionPolicy")) spec["persistentVolumeClaimRetentionPolicy"] = Json::object();
  DefaultTemplate(spec);
}

void ValidateWorkload(const Json& obj, const Json* old, ErrorList& errs) {
  const Json& spec = obj.value("spec", Json::object());
  ValidateSelectorMatchesTemplate(spec, Path("spec"), errs);
  const Json& tmpl = spec.value("template", Json::object());
  ValidatePodSpec(tmpl.value("spec", Json::object()), Path("spec").Child("template").Child("spec"), errs);
  std::string restart = tmpl.value("spec", Json::object()).value("restartPolicy", "Always");
  if (restart != "Always") {
    errs.push_back(validation::NotSupported(Path("spec").Child("template").Child("spec").Child("restartPolicy"),
                                            restart, {"Always"}));
  }
}

}  // namespace

void ApplyAppsStrategy(ResourceInfo& r) {
  if (r.kind == "ControllerRevision") return;
  r.tracks_generation = true;
  r.validate = ValidateWorkload;
  if (r.kind == "Deployment") r.default_object = DefaultDeployment;
  else if (r.kind == "DaemonSet") r.default_object = DefaultDaemonSet;
  else if (r.kind == "StatefulSet") r.default_object = DefaultStatefulSet;
  else r.default_object = [](Json& obj) {
    if (obj.contains("spec")) DefaultTemplate(obj["spec"]);
  };
}

}  // namespace kubes::apiserver
