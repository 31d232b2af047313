// Validating a custom resource against its CRD version's openAPIV3Schema.
//
// Upstream, a custom resource passes three checks on create and update
// (apiextensions-apiserver pkg/registry/customresource/strategy.go):
//   1. the OpenAPI schema validator — kube-openapi pkg/validation/validate, built by
//      pkg/apiserver/validation.NewSchemaValidator, its errors turned into field
//      errors by kubeOpenAPIResultToFieldErrors;
//   2. x-kubernetes-list-type set/map uniqueness (pkg/apiserver/schema/listtype);
//   3. x-kubernetes-validations CEL rules.
// Validate() does 1 and 2 with upstream's messages, e.g.
//   spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"
//   spec.count: Invalid value: 11: spec.count in body should be less than or equal to 10
// CEL (3) is not evaluated; CELWarnings() lists where a schema has rules so the
// caller can warn about it.
//
// The object is expected to be pruned and defaulted already (pruning.h,
// defaulting.h), as upstream validates after decoding.
//
// Pure functions over JSON; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apimachinery/validation/field.h"

namespace kubes::crd {

using Json = nlohmann::json;

// Validates obj against schema, appending to errs. `path` is where obj sits: empty
// for a whole custom resource (root-level errors then read "<nil>: ...", as upstream's
// nil field path prints), "status" for the status subresource.
void Validate(const Json& obj, const Json& schema, const validation::Path& path, validation::ErrorList& errs);

// How upstream built the kube-openapi validator for this check.
enum class SchemaFlavor {
  kCustomResource,  // NewSchemaValidator: unsupported formats dropped, int-or-string typed
  kDefaultValue,    // Structural.ToKubeOpenAPI, used when checking a schema's defaults
};

// Check 1 alone: the OpenAPI schema validator.
void ValidateAgainstSchema(const Json& value, const Json& schema, const validation::Path& path,
                           validation::ErrorList& errs, SchemaFlavor flavor = SchemaFlavor::kCustomResource);

// Check 2 alone: no duplicates in x-kubernetes-list-type=set lists, no duplicate keys
// in x-kubernetes-list-type=map lists. obj is the object at `path`.
void ValidateListSetsAndMaps(const Json& obj, const Json& schema, const validation::Path& path,
                             validation::ErrorList& errs);

// One warning per schema node that carries x-kubernetes-validations, naming the
// field it applies to: "spec: CEL validation rules are not evaluated by kubes".
std::vector<std::string> CELWarnings(const Json& schema);

}  // namespace kubes::crd
