// Strategies of the remaining groups: autoscaling, policy, networking, rbac, ... 
// (upstream pkg/registry/<group>/<kind>/strategy.go).
#include "apiserver/crd/crd_schema.h"
#include "apiserver/crd/validation.h"
#include "apiserver/registry/strategies.h"

namespace kubes::apiserver {
namespace {
using validation::ErrorList;
using validation::Path;
}  // namespace

void ApplyOtherStrategy(ResourceInfo& r) {
  const std::string& g = r.group;
  if (g == "autoscaling" || g == "policy") r.tracks_generation = true;
  if (r.kind == "NetworkPolicy") {
    r.tracks_generation = true;
    r.default_object = [](Json& obj) {
      Json& spec = obj["spec"];
      if (!spec.is_object() || spec.contains("policyTypes")) return;
      Json types = Json::array({"Ingress"});
      if (spec.contains("egress") && !spec["egress"].empty()) types.push_back("Egress");
      spec["policyTypes"] = types;
    };
  }
  if (r.kind == "CustomResourceDefinition") {
    r.tracks_generation = true;
    r.default_object = [](Json& obj) {
      Json& spec = obj["spec"];
      if (!spec.is_object()) return;
      if (!spec.contains("conversion")) spec["conversion"] = {{"strategy", "None"}};
      Json& names = spec["names"];
      if (names.is_object() && names.contains("kind")) {
        std::string kind = names["kind"].get<std::string>();
        std::string lower = kind;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (!names.contains("singular")) names["singular"] = lower;
        if (!names.contains("listKind")) names["listKind"] = kind + "List";
      }
    };
  }
  if (r.kind == "CustomResourceDefinition") {
    r.validate = [](const Json& obj, const Json* old, ErrorList& errs) {
      const Json& spec = obj.value("spec", Json::object());
      const Json& names = spec.value("names", Json::object());
      std::string want = names.value("plural", "") + "." + spec.value("group", "");
      std::string name = obj["metadata"].value("name", "");
      if (name != want) {
        errs.push_back(validation::InvalidValue(Path("metadata").Child("name"), name,
                                                "must be spec.names.plural+\".\"+spec.group"));
      }
      const Json& versions = spec.value("versions", Json::array());
      if (versions.empty()) errs.push_back(validation::Required(Path("spec").Child("versions")));
      int storage = 0;
      for (const auto& v : versions) storage += v.value("storage", false) ? 1 : 0;
      if (!versions.empty() && storage != 1) {
        errs.push_back(validation::InvalidValue(Path("spec").Child("versions"), versions,
                                                "must have exactly one version marked as storage version"));
      }
      for (size_t i = 0; i < versions.size(); ++i) {
        const Json& schema = versions[i].value("schema", Json::object()).value("openAPIV3Schema", Json());
        Path sp = Path("spec").Child("versions").Index(i).Child("schema").Child("openAPIV3Schema");
        if (schema.is_null()) {
          errs.push_back(validation::Required(sp, "schemas are required"));
          continue;
        }
        for (auto& e : crd::ValidateSchema(schema, sp)) errs.push_back(std::move(e));
      }
      if (std::string scope = spec.value("scope", ""); scope != "Namespaced" && scope != "Cluster") {
        errs.push_back(validation::NotSupported(Path("spec").Child("scope"), scope, {"Cluster", "Namespaced"}));
      }
    };
  }
  if (r.kind == "CustomResourceDefinition") {
    r.warnings = [](const Json& obj, std::vector<std::string>& warnings) {
      for (const auto& v : obj.value("spec", Json::object()).value("versions", Json::array())) {
        const Json& schema = v.value("schema", Json::object()).value("openAPIV3Schema", Json());
        if (schema.is_object()) {
          for (auto& w : crd::CELWarnings(schema)) warnings.push_back(std::move(w));
        }
      }
    };
  }
  if (r.kind == "ClusterRoleBinding" || r.kind == "RoleBinding") {
    r.default_object = [](Json& obj) {
      if (!obj.contains("subjects")) return;
      for (auto& s : obj["subjects"]) {
        std::string kind = s.value("kind", "");
        if ((kind == "User" || kind == "Group") && !s.contains("apiGroup")) s["apiGroup"] = "rbac.authorization.k8s.io";
      }
    };
  }
  if (r.kind == "HorizontalPodAutoscaler" && r.version == "v2") {
    r.default_object = [](Json& obj) {
      Json& spec = obj["spec"];
      if (!spec.is_object()) return;
      if (!spec.contains("metrics") || spec["metrics"].empty()) {
        spec["metrics"] = Json::array({{{"type", "Resource"},
                                        {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 80}}}}}}});
      }
    };
  }
}

}  // namespace kubes::apiserver
