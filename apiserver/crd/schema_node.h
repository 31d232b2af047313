// Read-only accessors for one node of a CRD's openAPIV3Schema, held as JSON.
//
// Upstream decodes the schema into apiextensions.JSONSchemaProps (Go structs), so a
// keyword that is null or has the wrong JSON type simply ends up as Go's zero value.
// These helpers give the same view over nlohmann::json: an absent key, a null and a
// value of the wrong type all read as "not set". Callers therefore never throw on a
// malformed schema; crd_schema.cc reports wrongly typed keywords separately.
//
// Header-only, pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace kubes::crd {

using Json = nlohmann::json;

// node[key] when node is an object and the value is not null; nullptr otherwise.
inline const Json* Get(const Json& node, std::string_view key) {
  if (!node.is_object()) return nullptr;
  auto it = node.find(key);
  if (it == node.end() || it->is_null()) return nullptr;
  return &*it;
}

inline std::string GetString(const Json& node, std::string_view key) {
  const Json* v = Get(node, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

inline bool GetBool(const Json& node, std::string_view key) {
  const Json* v = Get(node, key);
  return v && v->is_boolean() && v->get<bool>();
}

inline std::optional<double> GetNumber(const Json& node, std::string_view key) {
  const Json* v = Get(node, key);
  if (!v || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

// Integer keywords (maxLength, minItems, ...): Go decodes them into int64, so only
// JSON integers count.
inline std::optional<int64_t> GetInt(const Json& node, std::string_view key) {
  const Json* v = Get(node, key);
  if (!v || !v->is_number_integer()) return std::nullopt;
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return INT64_MAX;
  return v->get<int64_t>();
}

// A sub-schema keyword (items, not, additionalProperties): only an object is a schema.
inline const Json* GetSchema(const Json& node, std::string_view key) {
  const Json* v = Get(node, key);
  return v && v->is_object() ? v : nullptr;
}

// properties[name] when it is a schema (an object), or nullptr.
inline const Json* Property(const Json& node, std::string_view name) {
  const Json* props = GetSchema(node, "properties");
  return props ? GetSchema(*props, name) : nullptr;
}

// Whether additionalProperties is set at all (true, false or a schema). Upstream's
// Structural keeps a non-nil AdditionalProperties in all three cases.
inline bool HasAdditionalProperties(const Json& node) {
  const Json* v = Get(node, "additionalProperties");
  return v && (v->is_boolean() || v->is_object());
}

inline const Json* AdditionalPropertiesSchema(const Json& node) { return GetSchema(node, "additionalProperties"); }

inline bool PreservesUnknownFields(const Json& node) { return GetBool(node, "x-kubernetes-preserve-unknown-fields"); }
inline bool IsEmbeddedResource(const Json& node) { return GetBool(node, "x-kubernetes-embedded-resource"); }
inline bool IsIntOrString(const Json& node) { return GetBool(node, "x-kubernetes-int-or-string"); }
inline bool IsNullable(const Json& node) { return GetBool(node, "nullable"); }

// The default value, or nullptr. `default: null` reads as no default, as in Go.
inline const Json* DefaultValue(const Json& node) { return Get(node, "default"); }

}  // namespace kubes::crd
