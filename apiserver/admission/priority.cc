// Priority (upstream plugin/pkg/admission/priority): a Pod's priorityClassName turns
// into spec.priority (and preemptionPolicy) from the PriorityClass; no class means the
// global default class if one is marked globalDefault, else priority 0.
#include "apiserver/admission/admission.h"

namespace kubes::apiserver::admission {
namespace {

class Priority : public Plugin {
 public:
  const char* Name() const override { return "Priority"; }
  Status Admit(const Attributes& a, Json& pod, const ObjectReader& reader) override {
    if (a.operation != "CREATE" || a.resource.group != "" || a.resource.kind != "Pod" || !a.subresource.empty()) {
      return Status::OK();
    }
    Json& spec = pod["spec"];
    if (!spec.is_object()) return Status::OK();
    std::string name = spec.value("priorityClassName", "");
    ObjectPtr pc;
    if (name.empty()) {
      for (const auto& c : reader.List("scheduling.k8s.io", "priorityclasses", "")) {
        if (c->object.value("globalDefault", false)) pc = c;
      }
    } else if (name == "system-node-critical" || name == "system-cluster-critical") {
      spec["priority"] = name == "system-node-critical" ? 2000001000 : 2000000000;
      if (!spec.contains("preemptionPolicy")) spec["preemptionPolicy"] = "PreemptLowerPriority";
      return Status::OK();
    } else {
      pc = reader.Get("scheduling.k8s.io", "priorityclasses", "", name);
      if (!pc) return Forbidden(a, "no PriorityClass with name " + name + " was found");
    }
    if (pc) {
      spec["priorityClassName"] = pc->object["metadata"].value("name", "");
      spec["priority"] = pc->object.value("value", 0);
      if (!spec.contains("preemptionPolicy")) {
        spec["preemptionPolicy"] = pc->object.value("preemptionPolicy", "PreemptLowerPriority");
      }
    } else {
      spec["priority"] = 0;
      if (!spec.contains("preemptionPolicy")) spec["preemptionPolicy"] = "PreemptLowerPriority";
    }
    return Status::OK();
  }
};

}  // namespace

std::shared_ptr<Plugin> NewPriority() { return std::make_shared<Priority>(); }

}  // namespace kubes::apiserver::admission
