// Defaulting: filling in a custom resource's missing fields from the schema's
// `default` values, and checking those defaults when a CRD is created.
//
// Mirrors apiextensions-apiserver pkg/apiserver/schema/defaulting:
//   - ApplyDefaults is Default(): for every object present in the value, each
//     property with a default that is missing — or null while not nullable — gets a
//     copy of the default; then the walk continues into the fields, including ones
//     just defaulted (so a defaulted object has its own defaults applied). Objects
//     that are absent are never created unless an enclosing default creates them.
//     Nulls in lists and in additionalProperties maps are replaced the same way.
//   - ValidateDefaults is defaulting.ValidateDefaults, run by CRD validation: every
//     default must already be pruned ("must not have unknown fields") and must
//     validate against the schema it sits in.
//
// Upstream applies defaults on decode (request and storage version) and after
// mutating admission; callers order the steps as README.md describes.
//
// Pure functions over JSON; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "apimachinery/validation/field.h"

namespace kubes::crd {

using Json = nlohmann::json;

// Applies the schema's defaults to obj in place.
void ApplyDefaults(Json& obj, const Json& schema);

// Checks the defaults of a CRD version schema; path is where the schema sits
// (e.g. spec.versions[0].schema.openAPIV3Schema).
validation::ErrorList ValidateDefaults(const Json& schema, const validation::Path& path);

}  // namespace kubes::crd
