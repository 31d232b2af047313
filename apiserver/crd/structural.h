// Structural schemas: the shape rules a CRD's openAPIV3Schema must follow so that
// pruning, defaulting and server-side apply can read it as a tree of types.
//
// Mirrors apiextensions-apiserver pkg/apiserver/schema: NewStructural's refusal of
// unsupported keywords (convert.go), ValidateStructural's invariants (validation.go)
// and completeness (complete.go). In words:
//   - every node — the root, each property, additionalProperties and array items —
//     has a `type`, unless it sets x-kubernetes-int-or-string or
//     x-kubernetes-preserve-unknown-fields;
//   - allOf/anyOf/oneOf/not only add value validations: no type, default, title,
//     description, nullable, additionalProperties or x-kubernetes-* inside, except the
//     two int-or-string patterns (anyOf: [{type: integer}, {type: string}], directly
//     or as the first allOf entry);
//   - every property or items constrained inside those junctors is also specified
//     outside them;
//   - metadata at the root may only restrict name and generateName;
//     x-kubernetes-embedded-resource objects are `type: object`.
// Messages are upstream's field errors; ValidateStructural sorts them as upstream does.
//
// The full set of checks a CRD create runs on a schema is CheckStructural
// (crd_schema.h), which uses these.
//
// Pure functions over JSON; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "apimachinery/validation/field.h"

namespace kubes::crd {

using Json = nlohmann::json;

// NewStructural's error for a keyword structural schemas cannot express ($ref,
// definitions, items as an array, ...), e.g. "OpenAPIV3Schema '$ref' is not supported";
// "" when the schema converts.
std::string NewStructuralError(const Json& schema);

// The structural invariants and completeness errors, sorted by their text.
validation::ErrorList ValidateStructural(const Json& schema, const validation::Path& path);

}  // namespace kubes::crd
