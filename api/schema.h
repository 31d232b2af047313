// SchemaRegistry: the one description of every API type kubes serves.
//
// Types are read from the `.schema` files in api/schema/ (format: api/schema/README.md),
// which are compiled into the binary. Decoding, protobuf, OpenAPI, patching and
// defaulting all walk these descriptions instead of keeping their own field lists —
// the way upstream generates all of them from Go struct tags.
//
// A SchemaRegistry is built once at start-up and is immutable afterwards: any number
// of threads may read it concurrently.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace kubes::api {

// The JSON/protobuf shape of one value.
enum class ValueKind {
  kString, kBytes, kBool, kInt32, kInt64, kDouble,
  kQuantity, kIntOrString, kTime, kMicroTime, kDuration, kRawExtension, kAny,
  kObject,  // a named type described in a .schema file
  kList,    // []T
  kMap,     // map[string]T
};

struct TypeSchema;

// A reference to a value's type; lists and maps nest an element type.
struct TypeRef {
  ValueKind kind = ValueKind::kString;
  std::string name;                   // kObject: qualified name as written, resolved below
  const TypeSchema* object = nullptr;  // kObject: filled by Resolve()
  std::shared_ptr<TypeRef> elem;       // kList, kMap: the element type

  bool IsScalar() const { return kind != ValueKind::kObject && kind != ValueKind::kList && kind != ValueKind::kMap; }
  std::string ToString() const;
};

struct FieldSchema {
  std::string name;          // JSON name
  TypeRef type;
  int proto = 0;             // protobuf field number
  int inline_proto = 0;      // >0: in protobuf the field sits in an embedded message at this outer number
  bool ptr = false;
  bool required = false;
  bool status = false;
  bool immutable = false;
  bool readonly = false;
  bool unimplemented = false;
  std::string default_value;
  std::vector<std::string> enum_values;
  std::string merge_key;       // strategic merge patch
  std::string patch_strategy;  // "merge", "replace", "retainKeys", "merge,retainKeys"
  std::string list_type;       // "atomic", "set", "map" (after applying the merge-key rule)
  std::vector<std::string> list_keys;
  std::string map_type;        // "atomic", "granular" or ""
  std::string description;
};

struct TypeSchema {
  std::string name;          // short name, "Deployment"
  std::string package;       // "io.k8s.api.apps.v1"
  std::string group;         // "apps"; "" for core
  std::string version;       // "v1"
  bool is_object = false;    // a top-level kind with apiVersion/kind
  std::string description;
  std::vector<FieldSchema> fields;
  std::map<std::string, size_t, std::less<>> by_name;  // JSON name -> index in fields

  std::string OpenAPIName() const { return package + "." + name; }
  const FieldSchema* Field(std::string_view json_name) const;
};

class SchemaRegistry {
 public:
  // Parses the given files (name, text) and resolves every reference.
  // Errors name the file and line.
  static Result<std::unique_ptr<SchemaRegistry>> Parse(
      const std::vector<std::pair<std::string, std::string>>& files);
  // The registry built from the .schema files compiled into the binary.
  static const SchemaRegistry& BuiltIn();

  // Looks up a type by package and short name; nullptr when unknown.
  const TypeSchema* Find(std::string_view package, std::string_view name) const;
  // The top-level kind of a group/version ("" = core): nullptr when unknown.
  const TypeSchema* FindKind(std::string_view group, std::string_view version, std::string_view kind) const;
  const std::vector<std::unique_ptr<TypeSchema>>& types() const { return types_; }

 private:
  std::vector<std::unique_ptr<TypeSchema>> types_;
  std::map<std::string, TypeSchema*, std::less<>> by_openapi_name_;
};

}  // namespace kubes::api
