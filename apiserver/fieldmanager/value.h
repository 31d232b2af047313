// JSON values as structured-merge-diff sees them: their order, equality, and how Go
// prints them.
//
// Server-side apply keys list items by values (k:{"containerPort":80,"protocol":"TCP"},
// v:"example.com/finalizer"), keeps them sorted, and prints them in fieldsV1 and in
// conflict messages. Upstream does all of this with Go's encoders; these helpers give
// the same bytes from nlohmann::json values.
//
// Mirrors sigs.k8s.io/structured-merge-diff/v6 value (Compare, Equals, ToString) and the
// json-iterator settings its fieldpath serializer uses (ConfigCompatibleWithStandardLibrary).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace kubes::apiserver::fieldmanager {

using Json = nlohmann::json;

// Objects nested deeper than this are refused before any recursive walk: far deeper than
// any Kubernetes object, far shallower than what would exhaust a thread's stack.
inline constexpr size_t kMaxDepth = 512;

// How many levels of objects/arrays `value` nests (0 for a scalar). Iterative.
size_t NestingDepth(const Json& value);

// Orders values as structured-merge-diff does: numbers (integers and floats compared by
// value) < strings < booleans < lists < maps < null. Maps compare as their sorted
// (key, value) lists.
int CompareValues(const Json& a, const Json& b);
inline bool ValuesEqual(const Json& a, const Json& b) { return CompareValues(a, b) == 0; }

// The value as Go's encoding/json writes it with HTML escaping on: compact, map keys
// sorted, <, >, & as \u003c, \u003e, \u0026, invalid UTF-8 as \ufffd.
std::string GoJSON(const Json& value);

// Decodes the UTF-8 sequence at s[i]: {code point, length}, or {-1, 1} for an invalid byte.
std::pair<int32_t, size_t> DecodeUTF8(std::string_view s, size_t i);

// A string as Go's %q prints it: "nginx", "a\"b", "tab\there".
std::string GoQuote(std::string_view s);

// The value as structured-merge-diff's value.ToString prints it in paths: strings
// quoted, numbers and booleans bare, lists as [a,b].
std::string ValueString(const Json& value);

}  // namespace kubes::apiserver::fieldmanager
