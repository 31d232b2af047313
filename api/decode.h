// Schema-driven passes over a JSON object: the decode checks the Go JSON decoder
// does for upstream (unknown fields, wrong JSON types), defaulting of simple scalar
// fields, and the generic validation every field gets (required, enum).
//
// Mirrors, for kubes' schema files: the strict decoder of
// k8s.io/apimachinery/pkg/runtime/serializer/json (unknown fields are reported, then
// dropped — as Go drops fields a struct has no place for), `+default=` defaulting, and
// `+required` / `+enum` validation. Pure functions over the caller's objects.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/schema.h"
#include "apimachinery/validation/field.h"

namespace kubes::api {

using Json = nlohmann::json;

struct DecodeReport {
  std::vector<std::string> unknown_fields;  // paths such as "spec.containers[0].foo", in document order
  std::string type_error;                   // first JSON type mismatch, worded as Go's decoder; "" when none
  std::vector<std::string> unimplemented;   // paths of set fields kubes stores but does not act on
};

// Checks obj against schema, removes unknown fields (recording their paths) and
// reports the first wrong JSON type. Fields of type `any`/RawExtension, and objects
// under them, are kept as they are.
DecodeReport DecodeCheck(Json& obj, const TypeSchema& schema);

// Sets `default=` values on missing fields of every object present in obj.
void ApplySchemaDefaults(Json& obj, const TypeSchema& schema);

// Required fields and enum values, with upstream's messages.
void ValidateSchema(const Json& obj, const TypeSchema& schema, const validation::Path& path,
                    validation::ErrorList& errs);

// Fields marked `immutable` whose value changed between old and obj.
void ValidateImmutable(const Json& obj, const Json& old, const TypeSchema& schema, const validation::Path& path,
                       validation::ErrorList& errs);

// Whether s is a valid resource quantity ("500m", "1Gi", "1e3").
bool IsQuantity(const std::string& s);

}  // namespace kubes::api
