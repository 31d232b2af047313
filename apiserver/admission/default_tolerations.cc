// DefaultTolerationSeconds (upstream plugin/pkg/admission/defaulttolerationseconds):
// every Pod tolerates a not-ready or unreachable node for 300 seconds before it is
// evicted, unless it says otherwise.
#include "apiserver/admission/admission.h"

namespace kubes::apiserver::admission {
namespace {

class DefaultTolerationSeconds : public Plugin {
 public:
  const char* Name() const override { return "DefaultTolerationSeconds"; }
  Status Admit(const Attributes& a, Json& pod, const ObjectReader&) override {
    if (a.operation != "CREATE" || a.resource.group != "" || a.resource.kind != "Pod" || !a.subresource.empty()) {
      return Status::OK();
    }
    Json& spec = pod["spec"];
    if (!spec.is_object()) return Status::OK();
    for (const char* taint : {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}) {
      bool has = false;
      for (const auto& t : spec.value("tolerations", Json::array())) {
        std::string effect = t.value("effect", "");
        if ((t.value("key", "") == taint || t.value("key", "").empty()) && (effect.empty() || effect == "NoExecute")) {
          has = true;
        }
      }
      if (has) continue;
      if (!spec.contains("tolerations")) spec["tolerations"] = Json::array();
      spec["tolerations"].push_back(
          {{"key", taint}, {"operator", "Exists"}, {"effect", "NoExecute"}, {"tolerationSeconds", 300}});
    }
    return Status::OK();
  }
};

}  // namespace

std::shared_ptr<Plugin> NewDefaultTolerationSeconds() { return std::make_shared<DefaultTolerationSeconds>(); }

}  // namespace kubes::apiserver::admission
