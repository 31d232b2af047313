// Admission — the plugins every write passes after decoding and defaulting, before
// it is validated and stored (upstream: k8s.io/apiserver/pkg/admission and the
// plugins in k8s.io/kubernetes/plugin/pkg/admission).
//
// Mutating plugins change the object (a Pod gets its service account token volume,
// default tolerations, priority); validating plugins may only say no (a namespace
// that is being deleted takes no new objects). The chain runs them in upstream's
// order. Plugins read other objects (the ServiceAccount, the PriorityClass) from the
// apiserver's cache.
//
// Thread-safety: plugins are stateless apart from what they read; the chain is shared
// by all request threads.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apiserver/cacher.h"
#include "apiserver/registry/resource.h"
#include "util/status.h"

namespace kubes::apiserver::admission {

using Json = nlohmann::json;

struct Attributes {
  const ResourceInfo& resource;
  std::string operation;   // CREATE, UPDATE
  std::string namespace_;
  std::string name;
  std::string subresource;
  const Json* old = nullptr;  // UPDATE: the stored object
};

// Reads objects the plugins need, by resource, namespace and name.
class ObjectReader {
 public:
  ObjectReader(const Cacher* cacher, const Registry* registry) : cacher_(cacher), registry_(registry) {}
  // nullptr when the object does not exist.
  ObjectPtr Get(const std::string& group, const std::string& resource, const std::string& ns,
                const std::string& name) const;
  std::vector<ObjectPtr> List(const std::string& group, const std::string& resource, const std::string& ns) const;

 private:
  const Cacher* cacher_;
  const Registry* registry_;
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual const char* Name() const = 0;
  // Mutating phase: may change obj.
  virtual Status Admit(const Attributes& a, Json& obj, const ObjectReader& reader) { return Status::OK(); }
  // Validating phase: may only reject.
  virtual Status Validate(const Attributes& a, const Json& obj, const ObjectReader& reader) { return Status::OK(); }
};

class Chain {
 public:
  // The plugins kubes enables, in upstream's order.
  static Chain Default(const std::string& service_cidr);
  Status Admit(const Attributes& a, Json& obj, const ObjectReader& reader) const;
  Status Validate(const Attributes& a, const Json& obj, const ObjectReader& reader) const;

 private:
  std::vector<std::shared_ptr<Plugin>> plugins_;
};

// The plugins (one file each).
std::shared_ptr<Plugin> NewNamespaceLifecycle();
std::shared_ptr<Plugin> NewServiceAccount();
std::shared_ptr<Plugin> NewDefaultTolerationSeconds();
std::shared_ptr<Plugin> NewPriority();
std::shared_ptr<Plugin> NewDefaultStorageClass();
std::shared_ptr<Plugin> NewServiceIPAllocator(const std::string& service_cidr);

// The upstream-worded "is forbidden" error of an admission plugin.
Status Forbidden(const Attributes& a, const std::string& why);

}  // namespace kubes::apiserver::admission
