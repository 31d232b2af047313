// Priority (upstream plugin/pkg/admission/priority): a Pod's priorityClassName turns
// into spec.priority (and preemptionPolicy) from the PriorityClass; no class means the
// global default class if one is marked globalDefault, else priority 0. A pod that
// brings its own spec.priority or spec.preemptionPolicy must agree with the class, as
// upstream: users pick a class, not a number.
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
      return Apply(a, spec, name == "system-node-critical" ? 2000001000 : 2000000000, "PreemptLowerPriority");
    } else {
      pc = reader.Get("scheduling.k8s.io", "priorityclasses", "", name);
      if (!pc) return Forbidden(a, "no PriorityClass with name " + name + " was found");
    }
    if (pc) {
      spec["priorityClassName"] = pc->object["metadata"].value("name", "");
      return Apply(a, spec, pc->object.value("value", 0), pc->object.value("preemptionPolicy", "PreemptLowerPriority"));
    }
    return Apply(a, spec, 0, "PreemptLowerPriority");
  }

 private:
  // Sets the computed priority and policy, refusing values in the spec that differ.
  static Status Apply(const Attributes& a, Json& spec, int64_t priority, const std::string& policy) {
    const Json& given = spec.contains("priority") ? spec["priority"] : Json();
    if (!given.is_null() && !(given.is_number_integer() && given.get<int64_t>() == priority)) {
      return Forbidden(a, "the integer value of priority (" + given.dump() +
                              ") must not be provided in pod spec; priority admission controller computed " +
                              std::to_string(priority) + " from the given PriorityClass name");
    }
    spec["priority"] = priority;
    const Json& given_policy = spec.contains("preemptionPolicy") ? spec["preemptionPolicy"] : Json();
    if (!given_policy.is_null() && given_policy != policy) {
      return Forbidden(a, "the string value of PreemptionPolicy (" +
                              (given_policy.is_string() ? given_policy.get<std::string>() : given_policy.dump()) +
                              ") must not be provided in pod spec; priority admission controller computed " + policy +
                              " from the given PriorityClass name");
    }
    spec["preemptionPolicy"] = policy;
    return Status::OK();
  }
};

}  // namespace

std::shared_ptr<Plugin> NewPriority() { return std::make_shared<Priority>(); }

}  // namespace kubes::apiserver::admission
