// Field paths and sets of them: the vocabulary of server-side apply ownership.
//
// A field manager owns a Set of paths into an object. A path is a list of elements,
// each one step down:
//   .spec               a field of a struct or a key of a granular map   (f:spec)
//   [name="nginx"]      the item of a list-map with these key values    (k:{"name":"nginx"})
//   [="example.com/x"]  the item of a set-list with this value          (v:"example.com/x")
//   [3]                 an item by position (only met in old data)      (i:3)
// The Set is a tree: at each node, `members` are the elements that are themselves in the
// set and `children` the elements below which more members sit. Appearing as a child
// does not make an element a member ("." in fieldsV1 says it is both).
//
// metadata.managedFields[].fieldsV1 is this tree as JSON, keys are the serialized
// elements above: {"f:spec":{"f:replicas":{},"f:template":{".":{},...}}}.
//
// Mirrors sigs.k8s.io/structured-merge-diff/v6 fieldpath (element.go, set.go,
// serialize.go, serialize-pe.go), including the order elements sort in (fields, then
// keys, then values, then indexes) and the exact bytes of ToJSON.
//
// Thread-safety: values; a const Set may be read from any number of threads.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apiserver/fieldmanager/value.h"
#include "util/status.h"

namespace kubes::apiserver::fieldmanager {

struct PathElement {
  // Declared in the order elements sort.
  enum class Kind { kField, kKey, kValue, kIndex };

  Kind kind = Kind::kField;
  std::string field;                              // kField
  std::vector<std::pair<std::string, Json>> key;  // kKey: sorted by name
  Json value;                                     // kValue
  int64_t index = 0;                              // kIndex

  static PathElement Field(std::string name);
  static PathElement Key(std::vector<std::pair<std::string, Json>> fields);  // sorts them
  static PathElement Value(Json value);
  static PathElement Index(int64_t index);

  int Compare(const PathElement& other) const;
  bool operator==(const PathElement& other) const { return Compare(other) == 0; }
  bool operator<(const PathElement& other) const { return Compare(other) < 0; }

  // As conflict messages print it: .spec, [name="nginx"], [="x"], [3].
  std::string String() const;
  // As fieldsV1 keys spell it: f:spec, k:{"name":"nginx"}, v:"x", i:3.
  std::string Serialize() const;
  // Reads a fieldsV1 key. nullopt for an element type this version does not know (a
  // future one); such keys are dropped, as upstream does.
  static Result<std::optional<PathElement>> Parse(std::string_view s);
};

using Path = std::vector<PathElement>;

// ".spec.template.spec.containers[name=\"nginx\"].image"
std::string PathString(const Path& path);

class Set {
 public:
  struct Node;  // one child: an element and the subtree below it

  Set() = default;
  Set(const Set&);
  Set(Set&&) noexcept;
  Set& operator=(const Set&);
  Set& operator=(Set&&) noexcept;
  ~Set();

  // Adds a path (its parents are not added). The empty path is ignored: nobody owns
  // the whole object.
  void Insert(const Path& path);
  bool Has(const Path& path) const;
  bool Empty() const;
  // The number of members in the whole tree.
  size_t Size() const;

  // Adds `pe` as a member of this node / returns the child node under `pe`, creating it.
  void InsertMember(const PathElement& pe);
  Set& Descend(const PathElement& pe);
  bool HasMember(const PathElement& pe) const;
  // The subtree under `pe`, or nullptr.
  const Set* Child(const PathElement& pe) const;
  const std::vector<PathElement>& members() const { return members_; }
  const std::vector<Node>& children() const { return children_; }

  Set Union(const Set& other) const;
  Set Intersection(const Set& other) const;
  // Members of this set that `other` lacks. A member of `other` does not remove this
  // set's paths below it (upstream's Difference); RecursiveDifference does.
  Set Difference(const Set& other) const;
  Set RecursiveDifference(const Set& other) const;

  bool operator==(const Set& other) const;

  // Calls f for every member path: this node's members first, then each child's.
  void Iterate(const std::function<void(const Path&)>& f) const;

  // The fieldsV1 encoding, byte for byte as upstream writes it.
  std::string ToJSON() const;
  // The same as a JSON value (object keys then sort as nlohmann sorts them).
  Json ToFieldsV1() const;
  // Reads fieldsV1. null reads as the empty set.
  static Result<Set> FromFieldsV1(const Json& fields);

  // One member path per line, for test failure messages.
  std::string DebugString() const;

 private:
  void IteratePrefix(Path& prefix, const std::function<void(const Path&)>& f) const;
  void EmitV1(bool include_self, std::string& out) const;
  static Status ReadV1(const Json& node, Set& out, bool& is_member);

  std::vector<PathElement> members_;  // sorted
  std::vector<Node> children_;  // sorted by element; never empty sets
};

struct Set::Node {
  PathElement pe;
  Set set;
};

}  // namespace kubes::apiserver::fieldmanager
