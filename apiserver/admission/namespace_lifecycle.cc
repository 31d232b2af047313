// NamespaceLifecycle (upstream plugin/pkg/admission/namespace/lifecycle): objects can
// only be created in a namespace that exists and is not being deleted.
#include "apiserver/admission/admission.h"

namespace kubes::apiserver::admission {
namespace {

class NamespaceLifecycle : public Plugin {
 public:
  const char* Name() const override { return "NamespaceLifecycle"; }
  Status Validate(const Attributes& a, const Json& obj, const ObjectReader& reader) override {
    if (a.operation != "CREATE" || !a.resource.namespaced) return Status::OK();
    ObjectPtr ns = reader.Get("", "namespaces", "", a.namespace_);
    if (!ns) {
      return Status(Code::kNotFound, "namespaces \"" + a.namespace_ + "\" not found")
          .WithDetails({a.namespace_, "", "namespaces", "", 0});
    }
    if (ns->object.value("status", Json::object()).value("phase", "") == "Terminating") {
      return Forbidden(a, "unable to create new content in namespace " + a.namespace_ +
                              " because it is being terminated");
    }
    return Status::OK();
  }
};

}  // namespace

std::shared_ptr<Plugin> NewNamespaceLifecycle() { return std::make_shared<NamespaceLifecycle>(); }

}  // namespace kubes::apiserver::admission
