// Strategies of the remaining groups: autoscaling, policy, networking, rbac, ... 
// (upstream pkg/registry/<group>/<kind>/strategy.go).
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
      if (std::string scope = spec.value("scope", ""); scope != "Namespaced" && scope != "Cluster") {
        errs.push_back(validation::NotSupported(Path("spec").Child("scope"), scope, {"Cluster", "Namespaced"}));
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
