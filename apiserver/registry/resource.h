// ResourceInfo and Registry: what the apiserver knows about each resource it serves.
//
// Mirrors the pieces kube-apiserver assembles per resource (pkg/registry/<group>/<kind>/
// strategy.go + storage.go, and the API group installer): identity (group, version,
// kind, plural, short names, categories, scope), its schema, subresources, and the
// strategy hooks — defaulting, validation, status handling, field selectors, table
// columns. Every resource is registered once, in registry/builtin.cc (or from a
// CustomResourceDefinition at run time).
//
// Thread-safety: a Registry is filled at start-up and changed only for CRDs, under its
// mutex; readers get shared_ptrs that stay valid while the registry changes.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/schema.h"
#include "apimachinery/validation/field.h"
#include "apimachinery/validation/names.h"
#include "util/time.h"

namespace kubes::apiserver {

using Json = nlohmann::json;

// One column of a `kubectl get` table (metav1.TableColumnDefinition).
struct Column {
  std::string name;
  std::string type = "string";  // string, integer, date, number, boolean
  std::string format;           // "name" for the NAME column
  std::string description;
  int priority = 0;             // > 0: only with -o wide
};

struct TablePrinter {
  std::vector<Column> columns;
  // The cells of one row, in column order.
  std::function<Json(const Json& obj, TimePoint now)> row;
};

struct ResourceInfo {
  // Identity.
  std::string group;             // "" for core
  std::string version;
  std::string kind;
  std::string resource;          // plural, "deployments"
  std::string singular;          // "deployment"
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool namespaced = true;
  std::vector<std::string> subresources;  // "status", "scale", ...
  // Verbs beyond plain CRUD are limited for some kinds (e.g. create-only reviews).
  std::vector<std::string> verbs = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};

  const api::TypeSchema* schema = nullptr;  // for decoding, defaults, OpenAPI, patches
  Json crd_schema;                           // for custom resources: the version's openAPIV3Schema

  // Strategy (upstream rest.RESTCreateStrategy / RESTUpdateStrategy).
  bool tracks_generation = false;  // metadata.generation counts spec changes
  validation::NameRule name_rule = validation::NameRule::kDNS1123Subdomain;
  std::function<void(Json& obj)> prepare_for_create;                  // e.g. reset status
  std::function<void(Json& obj, const Json& old)> prepare_for_update;
  std::function<void(Json& obj)> default_object;                      // conditional defaults
  std::function<void(const Json& obj, const Json* old, validation::ErrorList& errs)> validate;
  // Extra warnings for an accepted object (beyond "not implemented" fields).
  std::function<void(const Json& obj, std::vector<std::string>& warnings)> warnings;
  // Values of the fields this resource can be selected by (beyond metadata.name and
  // metadata.namespace, which every resource has).
  std::function<void(const Json& obj, std::map<std::string, std::string>& fields)> selectable_fields;
  std::vector<std::string> field_selectors;

  // Set on a version objects are not stored in (autoscaling/v1 HPAs are stored as
  // autoscaling/v2, as upstream stores them): the stored object as this version shows
  // it, and an object of this version as it is stored. Unset: stored as served.
  std::function<Json(const Json& stored)> from_storage;
  std::function<Json(const Json& obj)> to_storage;
  const TablePrinter* printer = nullptr;  // nullptr: NAME and AGE
  std::shared_ptr<const TablePrinter> owned_printer;  // custom resources own theirs

  bool HasSubresource(const std::string& s) const;
  // "deployments.apps", or "pods" for core.
  std::string QualifiedResource() const { return group.empty() ? resource : resource + "." + group; }
  // "Deployment.apps", or "Pod" for core.
  std::string QualifiedKind() const { return group.empty() ? kind : kind + "." + group; }
  std::string GroupVersion() const { return group.empty() ? version : group + "/" + version; }
  // Storage key prefix: "/registry/apps/deployments/".
  std::string KeyPrefix() const { return "/registry/" + (group.empty() ? std::string("core") : group) + "/" + resource + "/"; }
  std::string Key(const std::string& ns, const std::string& name) const {
    return namespaced ? KeyPrefix() + ns + "/" + name : KeyPrefix() + name;
  }
};
using ResourcePtr = std::shared_ptr<const ResourceInfo>;

class Registry {
 public:
  void Add(ResourcePtr r);
  // Removes every resource of group (used when a CRD goes away).
  void Remove(const std::string& group, const std::string& resource);
  // Removes the versions of group/resource that are not in keep.
  void RemoveOtherVersions(const std::string& group, const std::string& resource, const std::vector<std::string>& keep);
  ResourcePtr Find(const std::string& group, const std::string& version, const std::string& resource) const;
  ResourcePtr FindKind(const std::string& group, const std::string& version, const std::string& kind) const;
  // All resources, in registration order.
  std::vector<ResourcePtr> All() const;
  // Group names with their versions, in registration order (core first).
  std::vector<std::pair<std::string, std::vector<std::string>>> Groups() const;
  // Bumped on every change so discovery/OpenAPI caches know to rebuild.
  uint64_t Generation() const;

 private:
  mutable std::mutex mu_;
  std::vector<ResourcePtr> resources_;
  uint64_t generation_ = 1;
};

// Fills r with the built-in Kubernetes resources kubes serves.
void RegisterBuiltins(Registry& r, const api::SchemaRegistry& schemas);

}  // namespace kubes::apiserver
