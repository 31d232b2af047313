#include "apiserver/admission/admission.h"

namespace kubes::apiserver::admission {

ObjectPtr ObjectReader::Get(const std::string& group, const std::string& resource, const std::string& ns,
                            const std::string& name) const {
  for (const auto& r : registry_->All()) {
    if (r->group != group || r->resource != resource) continue;
    auto obj = cacher_->Get(r->Key(ns, name));
    return obj.ok() ? *obj : nullptr;
  }
  return nullptr;
}

std::vector<ObjectPtr> ObjectReader::List(const std::string& group, const std::string& resource,
                                          const std::string& ns) const {
  for (const auto& r : registry_->All()) {
    if (r->group != group || r->resource != resource) continue;
    int64_t rev;
    return cacher_->List(r->namespaced && !ns.empty() ? r->KeyPrefix() + ns + "/" : r->KeyPrefix(), &rev);
  }
  return {};
}

Chain Chain::Default(const std::string& service_cidr) {
  Chain c;
  c.plugins_ = {NewNamespaceLifecycle(), NewServiceAccount(), NewDefaultTolerationSeconds(), NewPriority(),
                NewDefaultStorageClass(), NewServiceIPAllocator(service_cidr)};
  return c;
}

Status Chain::Admit(const Attributes& a, Json& obj, const ObjectReader& reader) const {
  for (const auto& p : plugins_) KUBES_RETURN_IF_ERROR(p->Admit(a, obj, reader));
  return Status::OK();
}

Status Chain::Validate(const Attributes& a, const Json& obj, const ObjectReader& reader) const {
  for (const auto& p : plugins_) KUBES_RETURN_IF_ERROR(p->Validate(a, obj, reader));
  return Status::OK();
}

Status Forbidden(const Attributes& a, const std::string& why) {
  return Status(Code::kForbidden, a.resource.QualifiedResource() + " \"" + a.name + "\" is forbidden: " + why)
      .WithDetails({a.name, a.resource.group, a.resource.resource, "", 0});
}

}  // namespace kubes::apiserver::admission
