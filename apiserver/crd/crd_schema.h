// The checks a CRD create/update runs on one version's schema.openAPIV3Schema.
//
// Mirrors validateCustomResourceDefinitionValidation in apiextensions-apiserver
// pkg/apis/apiextensions/validation/validation.go for apiextensions.k8s.io/v1, in
// upstream's order:
//   1. `nullable` at the root is forbidden;
//   2. the structural-schema rules (structural.h), or — when those pass — that every
//      `default` is pruned and validates (defaulting.h);
//   3. ValidateCustomResourceDefinitionOpenAPISchema: keywords CRDs do not support
//      ($ref, id, definitions, patternProperties, dependencies, additionalItems,
//      uniqueItems: true, type: null, items as an array), unknown types,
//      additionalProperties next to properties, defaults in top-level metadata, and
//      the x-kubernetes-list-type / map-type / list-map-keys rules;
//   4. only if nothing else failed: NewStructural's conversion error.
// The x-kubernetes-validations entries get their static checks (rule present,
// message without line breaks, known reason); the CEL rules themselves are not
// compiled — see validation.h's CELWarnings.
//
// Not covered: the status-subresource restriction on root keywords and CEL cost
// limits (both need the rest of the CRD), and checks of defaults under metadata
// (upstream decodes them as ObjectMeta).
//
// Pure functions over JSON; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "apimachinery/validation/field.h"
#include "util/status.h"

namespace kubes::crd {

using Json = nlohmann::json;

// All errors, with field paths under `path` — the caller passes
// spec.versions[i].schema.openAPIV3Schema; an empty path gives paths relative to the
// schema root ("properties[spec].type").
validation::ErrorList ValidateSchema(const Json& openapi_v3_schema, const validation::Path& path);

// OK, or an Invalid status whose causes are ValidateSchema's errors relative to the
// schema root and whose message lists them ("a: ..." or "[a: ..., b: ...]").
Status CheckStructural(const Json& openapi_v3_schema);

}  // namespace kubes::crd
