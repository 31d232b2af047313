// The field manager: keeps metadata.managedFields up to date on every write and performs
// server-side apply (PATCH with Content-Type application/apply-patch+yaml).
//
// Every write records who changed which fields:
//   - a create, update or non-apply patch (UpdateManagedFields): the fields that differ
//     between the stored object and the new one become owned by the writer's Update entry
//     and are taken away from every other manager;
//   - an apply (Apply): the applier's Apply entry owns exactly the fields of its
//     configuration. Fields it owned last time and no longer applies are removed from
//     the object unless another manager owns them too. Changing a field another manager
//     owns is a conflict (409) unless force=true, which moves the field to the applier.
// README.md in this folder walks through examples.
//
// Mirrors k8s.io/apimachinery/pkg/util/managedfields (FieldManager and the managers
// NewDefaultFieldManager chains: version check, last-applied updater and manager,
// skip-non-applied, cap-managers, build-manager-info, managed-fields updater, strip-meta,
// structured merge) on top of sigs.k8s.io/structured-merge-diff/v6 merge.Updater.
//
// The caller owns the rest of the request: it decodes the YAML body to JSON, runs create
// defaulting and validation on the result, and stores it. Objects are JSON as stored.
//
// Thread-safety: pure functions; the schema is only read.
#pragma once

#include <cstdint>
#include <string>

#include "api/schema.h"
#include "apiserver/fieldmanager/managed_fields.h"
#include "util/status.h"

namespace kubes::apiserver::fieldmanager {

inline constexpr char kLastAppliedAnnotation[] = "kubectl.kubernetes.io/last-applied-configuration";

// Records a non-apply write in new_obj's metadata.managedFields and returns it.
//   old_obj:     the stored object, or nullptr on create;
//   new_obj:     the object about to be stored (after defaulting). If the client sent
//                managedFields in it they are the starting point (`[]` clears them);
//                otherwise old_obj's are;
//   manager:     ManagerOrUserAgent(fieldManager, User-Agent); "" is recorded as "unknown";
//   operation:   kOperationUpdate;
//   api_version: the version of the request, "apps/v1";
//   subresource: "" for the main resource, "status", "scale", ...;
//   now:         unix seconds for the entry's time;
//   schema:      the kind's type, nullptr for custom resources (everything granular maps
//                and atomic lists).
// Never fails: like upstream, an object whose fields cannot be walked (a list-map item
// without its key) is returned without managedFields. An existing object without
// managedFields stays without them.
Json UpdateManagedFields(const Json* old_obj, const Json& new_obj, const std::string& manager,
                         const std::string& operation, const std::string& api_version,
                         const std::string& subresource, int64_t now, const api::TypeSchema* schema);

struct ApplyResult {
  Json object;           // the object to store, with metadata.managedFields
  bool changed = false;  // false: nothing but (maybe) managedFields differs from live
};

// Server-side apply of `applied_config` (the request body as JSON) by `manager`.
//   live == nullptr: the object does not exist yet; the result is the configuration,
//   owned by the applier, for the caller to default, validate and create.
// Errors:
//   BadRequest  the configuration is not an object of this kind and version, or sets
//               metadata.managedFields;
//   Conflict    fields the configuration changes are owned by other managers: one cause
//               per field (reason FieldManagerConflict, field ".spec.replicas"), message
//               "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\"
//               using apps/v1: .spec.replicas";
//   Internal    the configuration or object cannot be walked (duplicate list keys,
//               items without keys), with upstream's message.
// Manager "kubectl" gets upstream's client-side-apply upgrade help: conflicts on fields
// whose value still equals the last-applied-configuration annotation are forced, and
// that annotation, when present, is rewritten to the applied configuration.
Result<ApplyResult> Apply(const Json* live, const Json& applied_config, const std::string& manager, bool force,
                          const api::TypeSchema* schema, const std::string& api_version, int64_t now,
                          const std::string& subresource = "");

}  // namespace kubes::apiserver::fieldmanager
