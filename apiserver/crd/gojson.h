// How Go sees a JSON value after decoding, and how Go prints it in error messages.
//
// The apiserver decodes a custom resource into map[string]interface{} with
// k8s.io/apimachinery/pkg/util/json: every number that parses as int64 becomes an
// int64, every other number a float64. The schema validator (kube-openapi) and the
// field errors depend on that split — `1` and `1.0` are different values to
// reflect.DeepEqual, and fmt prints a float64 10 as "10" but 1e6 as "1e+06". These
// helpers reproduce that view for nlohmann::json so messages match upstream byte for
// byte.
//
// Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "apimachinery/validation/field.h"

namespace kubes::crd {

using Json = nlohmann::json;

// The dynamic Go type of a decoded JSON value.
enum class GoKind { kNull, kBool, kString, kInt64, kFloat64, kSlice, kMap };

GoKind KindOf(const Json& v);

// The value of a number as Go holds it. REQUIRES: KindOf(v) is kInt64 or kFloat64.
double AsFloat64(const Json& v);
int64_t AsInt64(const Json& v);  // a float64 is truncated, as Go's int64(f)

// reflect.DeepEqual over decoded values: kinds must match (int64 1 != float64 1).
bool DeepEqual(const Json& a, const Json& b);

// fmt's %v of a float64: shortest digits, exponent form below 1e-4 and from 1e+06.
std::string FormatGoFloat(double f);

// encoding/json's spelling of a float64: plain digits between 1e-6 and 1e21.
std::string MarshalGoFloat(double f);

// fmt's %#v of a decoded value: map[string]interface {}{"a":1}, []interface {}{"x"},
// interface {}(nil) for a nested null.
std::string FormatGoSyntax(const Json& v);

// What field.Error prints for a BadValue taken from a decoded object: numbers and
// bools with %v, strings with %q, nil as "null" (quoted), maps and slices with %#v.
std::string FormatBadValue(const Json& v);

// field.Invalid(path, value, detail) with the value printed exactly as Go prints it.
validation::FieldError InvalidGo(const std::string& field, const Json& value, std::string detail);

}  // namespace kubes::crd
