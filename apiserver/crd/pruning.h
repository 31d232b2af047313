// Pruning: dropping the fields of a custom resource that its schema does not specify.
//
// Mirrors apiextensions-apiserver pkg/apiserver/schema/pruning (PruneWithOptions) and
// defaulting.PruneNonNullableNullsWithoutDefaults, which the apiserver runs on every
// custom resource it decodes (customresource_handler.go, unstructuredSchemaCoercer):
//   - a field is kept if `properties` names it or the object has `additionalProperties`
//     (true, false or a schema); otherwise it is removed and its path recorded;
//   - below x-kubernetes-preserve-unknown-fields: true unknown fields stay, but fields
//     the schema does specify are pruned by their own schema again;
//   - at the resource root, and in any x-kubernetes-embedded-resource object,
//     apiVersion, kind and metadata are never pruned (ObjectMeta has its own rules,
//     applied by the caller with the schema registry).
// The recorded paths ("spec.foo", "spec.items[0].bar") feed fieldValidation=Strict and
// Warn: `unknown field "spec.foo"`. They are sorted, as upstream sorts them.
//
// Pure functions over JSON; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kubes::crd {

using Json = nlohmann::json;

// Prunes a whole custom resource against its version's openAPIV3Schema.
std::vector<std::string> Prune(Json& obj, const Json& schema);

// Prunes any value. schema may be nullptr, meaning "nothing is specified": every field
// of every object inside is removed. is_resource_root keeps apiVersion, kind and
// metadata at the top, as for a custom resource or an embedded resource.
std::vector<std::string> PruneWithOptions(Json& obj, const Json* schema, bool is_resource_root);

// Removes null values the schema does not allow (nullable unset) and has no default
// for; a null with a default is left for ApplyDefaults to replace. Upstream runs this
// right after pruning.
void PruneNonNullableNullsWithoutDefaults(Json& obj, const Json* schema);

}  // namespace kubes::crd
