// Typed walks over JSON objects: which fields a value sets, how two values differ, how an
// applied configuration merges into a live object, and how fields are removed.
//
// The walks are driven by a Type, which says how server-side apply treats each value:
//   scalar   a leaf, owned and replaced as a whole;
//   struct   named fields (an api::TypeSchema), each owned on its own unless the field
//            says maptype=atomic;
//   map      map[string]T: each key owned on its own (granular) or the map as a whole
//            (maptype=atomic);
//   list     list=atomic: a leaf; list=map keys=...: items owned by their key fields
//            (k:{"name":"nginx"}); list=set: scalar items owned by value (v:"x");
//   untyped  no schema (custom resources, `any`): objects are granular maps, arrays atomic
//            lists, everything else scalars — upstream's "deduced" type.
// A value whose JSON kind does not fit its type (a string where a struct belongs) is
// walked as a leaf; validation reports such values elsewhere.
//
// Mirrors sigs.k8s.io/structured-merge-diff/v6 typed/ (tofieldset.go, compare.go,
// merge.go, remove.go, helpers.go) and fieldpath.Set.EnsureNamedFieldsAreMembers.
// One deliberate addition: upstream compares Go structs, in which some fields exist even
// when the JSON leaves them out. Compare emulates that: a missing non-pointer struct
// field (object type without `ptr`) is an empty object, a missing `required` field (Go:
// no omitempty) is null. That is what makes managedFields of built-in types show
// "f:resources":{} for a new container, but no "." on f:spec or f:containers.
//
// Thread-safety: pure functions; schemas are only read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/schema.h"
#include "apiserver/fieldmanager/fieldpath.h"
#include "util/status.h"

namespace kubes::apiserver::fieldmanager {

class Type {
 public:
  enum class Kind { kScalar, kStruct, kMap, kList, kUntyped };

  static Type Untyped() { return Type(); }
  static Type Scalar();
  // The root type of an object; nullptr (a custom resource) is untyped.
  static Type Object(const api::TypeSchema* schema);
  // The type of a struct field, with its list/map attributes.
  static Type OfField(const api::FieldSchema& field);
  // The type of a list item or map value: lists atomic, maps and structs granular.
  static Type OfRef(const api::TypeRef& ref);

  Kind kind() const { return kind_; }
  // Atomic values are owned, merged and compared as a whole.
  bool atomic() const { return atomic_; }
  // Lists: list=map with keys, or list=set.
  bool IsListMap() const { return kind_ == Kind::kList && !atomic_ && keys_ != nullptr; }
  bool IsSet() const { return kind_ == Kind::kList && !atomic_ && keys_ == nullptr; }
  const std::vector<std::string>& keys() const;
  const api::TypeSchema* object() const { return object_; }

  // Structs, maps, untyped: the type of member `name`; *named says whether it is a field
  // the struct declares (upstream's "named fields"; map keys and unknown fields are not).
  Type Member(std::string_view name, bool* named = nullptr) const;
  // Lists: the type of the items.
  Type Elem() const;
  // List-maps: the schema default of key field `name` (default=TCP), or null.
  Json KeyDefault(const std::string& name) const;

 private:
  Kind kind_ = Kind::kUntyped;
  bool atomic_ = false;
  const api::TypeSchema* object_ = nullptr;        // kStruct
  const api::TypeRef* elem_ = nullptr;             // kMap, kList
  const std::vector<std::string>* keys_ = nullptr;  // list-maps
};

// How a walk treats the value(s) at one place.
enum class Shape {
  kLeaf,     // one value: scalars, atomic lists and maps, mismatched kinds
  kMembers,  // a struct or granular map: walk its keys
  kItems,    // a list-map or set: walk its items
};
// The shape for `lhs` and `rhs` (either may be nullptr: absent) under `type`.
Shape ShapeOf(const Type& type, const Json* lhs, const Json* rhs = nullptr);

// The path element naming `item` in a list of type `list`: k:{...} for a list-map (key
// fields missing from the item take their schema default), v:... for a set. Errors
// for items that cannot be named: a list-map item without any key, a set item that is
// an object, a list or null.
Result<PathElement> ItemPathElement(const Type& list, const Json& item);

// The set of fields `value` sets (upstream's TypedValue.ToFieldSet). With
// reject_duplicates, two list items with the same key are an error ("duplicate entries
// for key [name=\"a\"]"), as they are in an applied configuration; otherwise the
// duplicated item is owned as a whole.
Result<Set> ToFieldSet(const Json& value, const Type& type, bool reject_duplicates = false);

// What changed from lhs to rhs: fields only in lhs, in both but different, only in rhs.
// A field appears in at most one of the three.
struct Comparison {
  Set removed;
  Set modified;
  Set added;
};
Result<Comparison> Compare(const Json& lhs, const Json& rhs, const Type& type);

// rhs (an applied configuration) merged into lhs (the live object): rhs wins at every
// leaf, granular maps and structs merge key by key, list-maps and sets merge item by item
// (order: rhs's order, with lhs-only items kept near their neighbours), atomic values are
// replaced. Null values in rhs remove the field. Errors for items that cannot be named
// and for duplicate keys in rhs.
Result<Json> Merge(const Json& lhs, const Json& rhs, const Type& type);

// `value` without the members of `items`: each member path removes the whole value
// there. Structs, maps and lists left empty disappear.
Json RemoveItems(const Json& value, const Set& items, const Type& type);

// `set` plus, as members, every struct field that has members below it. Pruning works
// on such sets so that removing "f:spec.f:strategy" also removes the struct itself.
Set EnsureNamedFieldsAreMembers(const Set& set, const Type& type);

// Joins walk errors as upstream's ValidationErrors does.
std::string JoinErrors(const std::vector<std::string>& errors);

}  // namespace kubes::apiserver::fieldmanager
