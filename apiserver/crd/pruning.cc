#include "apiserver/crd/pruning.h"

#include <algorithm>

#include "apiserver/crd/schema_node.h"

namespace kubes::crd {
namespace {

bool IsMetaField(const std::string& k) { return k == "apiVersion" || k == "kind" || k == "metadata"; }

// One pruning pass. `root` marks the resource root, which upstream treats as if its
// schema had x-kubernetes-embedded-resource set.
class Pruner {
 public:
  std::vector<std::string> paths;

  void Prune(Json& x, const Json* s, bool root, const std::string& at) {
    if (s && PreservesUnknownFields(*s)) {
      SkipPrune(x, s, root, at);
      return;
    }
    if (!s) {
      PruneUnspecified(x, at);
      return;
    }
    if (x.is_object()) {
      std::vector<std::string> unknown;
      for (auto it = x.begin(); it != x.end(); ++it) {
        const std::string& k = it.key();
        if (Embedded(*s, root) && IsMetaField(k)) continue;
        if (const Json* prop = Property(*s, k)) {
          Prune(*it, prop, false, Join(at, k));
        } else if (HasAdditionalProperties(*s)) {
          Prune(*it, AdditionalPropertiesSchema(*s), false, Join(at, k));
        } else {
          // A stray apiVersion/kind/metadata right at the top is dropped silently.
          if (!IsMetaField(k) || !at.empty()) Record(at, k);
          unknown.push_back(k);
        }
      }
      for (const auto& k : unknown) x.erase(k);
    } else if (x.is_array()) {
      const Json* items = GetSchema(*s, "items");
      for (size_t i = 0; i < x.size(); ++i) Prune(x[i], items, false, at + "[" + std::to_string(i) + "]");
    }
  }

 private:
  // A value nothing specifies: every object in it (through any depth of lists) loses
  // all its fields. Iterative, since nested lists are as deep as the request makes them.
  void PruneUnspecified(Json& root, const std::string& root_at) {
    std::vector<std::pair<Json*, std::string>> todo = {{&root, root_at}};
    while (!todo.empty()) {
      auto [x, at] = todo.back();
      todo.pop_back();
      if (x->is_object()) {
        for (auto it = x->begin(); it != x->end(); ++it) Record(at, it.key());
        *x = Json::object();
      } else if (x->is_array()) {
        for (size_t i = 0; i < x->size(); ++i) todo.emplace_back(&(*x)[i], at + "[" + std::to_string(i) + "]");
      }
    }
  }

  // Below x-kubernetes-preserve-unknown-fields: keep unknown fields, but prune the
  // specified ones by their own schemas.
  void SkipPrune(Json& x, const Json* s, bool root, const std::string& at) {
    if (!s) return;
    if (x.is_object()) {
      for (auto it = x.begin(); it != x.end(); ++it) {
        const std::string& k = it.key();
        if (Embedded(*s, root) && IsMetaField(k)) continue;
        if (const Json* prop = Property(*s, k)) {
          Prune(*it, prop, false, Join(at, k));
        } else if (HasAdditionalProperties(*s)) {
          Prune(*it, AdditionalPropertiesSchema(*s), false, Join(at, k));
        }
      }
    } else if (x.is_array()) {
      const Json* items = GetSchema(*s, "items");
      for (size_t i = 0; i < x.size(); ++i) SkipPrune(x[i], items, false, at + "[" + std::to_string(i) + "]");
    }
  }

  static bool Embedded(const Json& s, bool root) { return root || IsEmbeddedResource(s); }
  static std::string Join(const std::string& at, const std::string& k) { return at.empty() ? k : at + "." + k; }
  void Record(const std::string& at, const std::string& k) { paths.push_back(Join(at, k)); }
};

// The schema that applies to field k of an object: its property, else additionalProperties.
const Json* SchemaForField(const std::string& k, const Json* s) {
  if (!s) return nullptr;
  if (const Json* prop = Property(*s, k)) return prop;
  return HasAdditionalProperties(*s) ? AdditionalPropertiesSchema(*s) : nullptr;
}

}  // namespace

std::vector<std::string> PruneWithOptions(Json& obj, const Json* schema, bool is_resource_root) {
  static const Json kEmpty = Json::object();
  if (is_resource_root && !schema) schema = &kEmpty;
  Pruner p;
  p.Prune(obj, schema, is_resource_root, "");
  std::sort(p.paths.begin(), p.paths.end());
  return p.paths;
}

std::vector<std::string> Prune(Json& obj, const Json& schema) { return PruneWithOptions(obj, &schema, true); }

void PruneNonNullableNullsWithoutDefaults(Json& obj, const Json* schema) {
  if (!schema) return;  // below an unspecified value nothing is dropped
  if (obj.is_object()) {
    std::vector<std::string> drop;
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      const Json* s = SchemaForField(it.key(), schema);
      if (it->is_null() && s && !IsNullable(*s) && !DefaultValue(*s)) {
        drop.push_back(it.key());
      } else {
        PruneNonNullableNullsWithoutDefaults(*it, s);
      }
    }
    for (const auto& k : drop) obj.erase(k);
  } else if (obj.is_array()) {
    const Json* items = schema ? GetSchema(*schema, "items") : nullptr;
    for (auto& item : obj) PruneNonNullableNullsWithoutDefaults(item, items);
  }
}

}  // namespace kubes::crd
