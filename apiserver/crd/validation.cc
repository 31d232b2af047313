#include "apiserver/crd/validation.h"

#include <map>

#include "apiserver/crd/gojson.h"
#include "apiserver/crd/schema_node.h"

namespace kubes::crd {
namespace {

// encoding/json's bytes for a value, up to string escaping: what upstream's
// validateListSet compares compound list items by. A float64 that holds an integer
// marshals like that integer.
std::string MarshalKey(const Json& v, int depth = 0) {
  if (depth > 10000) return "...";  // deeper than Go's decoder accepts
  switch (KindOf(v)) {
    case GoKind::kFloat64: return MarshalGoFloat(AsFloat64(v));
    case GoKind::kSlice: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + MarshalKey(v[i], depth + 1);
      return out + "]";
    }
    case GoKind::kMap: {
      std::string out = "{";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it, first = false) {
        out += (first ? "" : ",") + Json(it.key()).dump() + ":" + MarshalKey(*it, depth + 1);
      }
      return out + "}";
    }
    default: return v.dump();
  }
}

// The identity of a list item in validateListSet: scalars compare as Go interface
// values (so int64 1 and float64 1 differ), compounds by their JSON encoding.
std::string ItemKey(const Json& v) {
  const GoKind k = KindOf(v);
  if (k == GoKind::kSlice || k == GoKind::kMap) return "c" + MarshalKey(v);
  return std::to_string(static_cast<int>(k)) + v.dump();
}

// validateListSet: the index of the second appearance of every repeated item.
std::vector<size_t> NonUnique(const std::vector<std::string>& keys) {
  std::map<std::string, int> seen;
  std::vector<size_t> out;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (++seen[keys[i]] == 2) out.push_back(i);
  }
  return out;
}

void ValidateListMap(const validation::Path& path, const Json& s, const Json& list, validation::ErrorList& errs) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_null() && !list[i].is_object()) {
      errs.push_back(InvalidGo(path.Index(i).String(), list[i], "must be an object for an array of list-type map"));
      return;
    }
  }
  if (list.size() <= 1) return;
  std::vector<std::string> key_fields;
  if (const Json* keys = Get(s, "x-kubernetes-list-map-keys"); keys && keys->is_array()) {
    for (const Json& k : *keys) {
      if (k.is_string()) key_fields.push_back(k.get<std::string>());
    }
  }
  // An item's key: the map of its key fields that are present (a null item has none).
  std::vector<Json> keys;
  std::vector<std::string> identities;
  for (const Json& item : list) {
    Json key = Json::object();
    for (const auto& f : key_fields) {
      if (item.is_object() && item.contains(f)) key[f] = item[f];
    }
    // With a single key field upstream compares the bare key values, where a missing
    // key is its own value; the printed duplicate is the same map either way.
    identities.push_back(key_fields.size() == 1 ? (key.empty() ? "unspecified" : ItemKey(key[key_fields[0]]))
                                                : ItemKey(key));
    keys.push_back(std::move(key));
  }
  for (size_t i : NonUnique(identities)) errs.push_back(validation::Duplicate(path.Index(i), keys[i]));
}

void ValidateValue(const validation::Path& path, const Json& s, const Json& value, validation::ErrorList& errs);

void ValidateList(const validation::Path& path, const Json& s, const Json& list, validation::ErrorList& errs) {
  if (const Json* type = Get(s, "x-kubernetes-list-type"); type && type->is_string()) {
    if (*type == "set") {
      std::vector<std::string> identities;
      for (const Json& item : list) identities.push_back(ItemKey(item));
      for (size_t i : NonUnique(identities)) errs.push_back(validation::Duplicate(path.Index(i), list[i]));
    } else if (*type == "map") {
      ValidateListMap(path, s, list, errs);
    }
  }
  if (const Json* items = GetSchema(s, "items")) {
    for (size_t i = 0; i < list.size(); ++i) ValidateValue(path.Index(i), *items, list[i], errs);
  }
}

void ValidateValue(const validation::Path& path, const Json& s, const Json& value, validation::ErrorList& errs) {
  if (value.is_array()) ValidateList(path, s, value, errs);
  if (value.is_object()) ValidateListSetsAndMaps(value, s, path, errs);
}

void CollectCEL(const Json& s, const std::string& field, std::vector<std::string>& out) {
  if (!s.is_object()) return;
  if (const Json* rules = Get(s, "x-kubernetes-validations"); rules && rules->is_array() && !rules->empty()) {
    out.push_back((field.empty() ? "" : field + ": ") + "CEL validation rules are not evaluated by kubes");
  }
  if (const Json* props = GetSchema(s, "properties")) {
    for (auto it = props->begin(); it != props->end(); ++it) {
      CollectCEL(*it, field.empty() ? it.key() : field + "." + it.key(), out);
    }
  }
  if (const Json* items = GetSchema(s, "items")) CollectCEL(*items, field + "[*]", out);
  if (const Json* additional = AdditionalPropertiesSchema(s)) CollectCEL(*additional, field + "[*]", out);
}

}  // namespace

void ValidateListSetsAndMaps(const Json& obj, const Json& schema, const validation::Path& path,
                             validation::ErrorList& errs) {
  if (!obj.is_object() || !schema.is_object()) return;
  if (const Json* additional = AdditionalPropertiesSchema(schema)) {
    for (auto it = obj.begin(); it != obj.end(); ++it) ValidateValue(path.Key(it.key()), *additional, *it, errs);
  }
  if (GetSchema(schema, "properties")) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (const Json* prop = Property(schema, it.key())) ValidateValue(path.Child(it.key()), *prop, *it, errs);
    }
  }
}

void Validate(const Json& obj, const Json& schema, const validation::Path& path, validation::ErrorList& errs) {
  ValidateAgainstSchema(obj, schema, path, errs, SchemaFlavor::kCustomResource);
  ValidateListSetsAndMaps(obj, schema, path, errs);
}

std::vector<std::string> CELWarnings(const Json& schema) {
  std::vector<std::string> out;
  CollectCEL(schema, "", out);
  return out;
}

}  // namespace kubes::crd
