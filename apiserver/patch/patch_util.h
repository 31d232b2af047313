// Small helpers shared by the three patch engines in this folder (JSON patch, JSON merge
// patch, strategic merge patch). Not part of their public API.
//
// Upstream's engines are Go code, and their error messages print JSON values with Go's
// `%v` verb and Go type names ("map: map[image:nginx] does not contain declared merge key:
// name"). GoFormat and GoTypeName produce the same text from nlohmann::json values so that
// kubes' messages read like the ones users find when they search for them.
//
// All three engines recurse over the documents they patch; CheckNestingDepth rejects
// documents nested deeper than kMaxNestingDepth up front so a hostile request cannot
// exhaust the stack.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace kubes::apiserver::patch {

using Json = nlohmann::json;

// Far deeper than any Kubernetes object (they stay well under 30 levels, CRD schemas
// somewhat more), far shallower than what would overflow a thread's stack.
inline constexpr size_t kMaxNestingDepth = 1000;

// The message kube-apiserver sends with its generic 422 answers (NewGenericServerResponse
// for StatusUnprocessableEntity): a failed JSON patch operation, a list of lists in a
// strategic merge patch. kubectl prints "The request is invalid: " before it.
inline constexpr char kRejectedRequestMessage[] =
    "the server rejected our request due to an error in our request";

// How many levels of objects/arrays `value` nests: 0 for a scalar, 1 for {"a":1}.
// Iterative, so safe on any input.
size_t NestingDepth(const Json& value);

// BadRequest when `value` nests objects/arrays more than kMaxNestingDepth levels.
// `what` names the value in the message ("patch", "original object").
Status CheckNestingDepth(const Json& value, std::string_view what);

// value.dump() that never throws: invalid UTF-8 in strings is replaced, not rejected.
std::string SafeDump(const Json& value);

// JSON equality with Go's rules for decoded values: an integer never equals a float
// (Go decodes them into int64 and float64), object member order does not matter.
bool JsonEqual(const Json& a, const Json& b);

// The value as Go's fmt prints it with %v: map[a:1 b:[x y]], <nil>, strings unquoted.
std::string GoFormat(const Json& value);

// The Go type of the decoded value: "map[string]interface {}", "[]interface {}",
// "string", "int64", "float64", "bool" or "<nil>".
std::string GoTypeName(const Json& value);

// The JSON kind as encoding/json names it in "cannot unmarshal X into ...":
// "object", "array", "string", "number", "bool" or "null".
std::string JsonKindName(const Json& value);

}  // namespace kubes::apiserver::patch
