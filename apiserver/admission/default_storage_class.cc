// DefaultStorageClass (upstream plugin/pkg/admission/storage/storageclass/setdefault):
// a PersistentVolumeClaim created without spec.storageClassName gets the class marked
// `storageclass.kubernetes.io/is-default-class: "true"` (kubes makes `local-path` one).
// An explicit "" asks for no class and is left alone.
#include "apiserver/admission/admission.h"

namespace kubes::apiserver::admission {
namespace {

class DefaultStorageClass : public Plugin {
 public:
  const char* Name() const override { return "DefaultStorageClass"; }
  Status Admit(const Attributes& a, Json& pvc, const ObjectReader& reader) override {
    if (a.operation != "CREATE" || a.resource.group != "" || a.resource.kind != "PersistentVolumeClaim" ||
        !a.subresource.empty()) {
      return Status::OK();
    }
    Json& spec = pvc["spec"];
    if (!spec.is_object() || spec.contains("storageClassName")) return Status::OK();
    // Of several defaults upstream takes the newest.
    std::string chosen, chosen_created;
    for (const auto& sc : reader.List("storage.k8s.io", "storageclasses", "")) {
      const Json& meta = sc->object["metadata"];
      if (meta.value("annotations", Json::object()).value("storageclass.kubernetes.io/is-default-class", "") != "true") {
        continue;
      }
      std::string created = meta.value("creationTimestamp", "");
      if (chosen.empty() || created > chosen_created) {
        chosen = meta.value("name", "");
        chosen_created = created;
      }
    }
    if (!chosen.empty()) spec["storageClassName"] = chosen;
    return Status::OK();
  }
};

}  // namespace

std::shared_ptr<Plugin> NewDefaultStorageClass() { return std::make_shared<DefaultStorageClass>(); }

}  // namespace kubes::apiserver::admission
