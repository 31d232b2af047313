#include "apiserver/crd/structural.h"

#include <algorithm>
#include <set>

#include "apiserver/crd/gojson.h"
#include "apiserver/crd/pattern.h"
#include "apiserver/crd/schema_node.h"

namespace kubes::crd {
namespace {

using validation::ErrorList;
using validation::Path;

enum class Level { kRoot, kItem, kField };

// Whether a keyword holds a value that upstream's Structural keeps (as opposed to Go's
// zero value, or a keyword Structural does not model such as example or externalDocs).
bool IsSet(const std::string& key, const Json& v) {
  static const std::set<std::string> kStructuralKeys = {"items",
                                                        "properties",
                                                        "additionalProperties",
                                                        "description",
                                                        "type",
                                                        "title",
                                                        "default",
                                                        "nullable",
                                                        "x-kubernetes-preserve-unknown-fields",
                                                        "x-kubernetes-embedded-resource",
                                                        "x-kubernetes-int-or-string",
                                                        "x-kubernetes-list-map-keys",
                                                        "x-kubernetes-list-type",
                                                        "x-kubernetes-map-type",
                                                        "x-kubernetes-validations",
                                                        "format",
                                                        "maximum",
                                                        "exclusiveMaximum",
                                                        "minimum",
                                                        "exclusiveMinimum",
                                                        "maxLength",
                                                        "minLength",
                                                        "pattern",
                                                        "maxItems",
                                                        "minItems",
                                                        "uniqueItems",
                                                        "multipleOf",
                                                        "enum",
                                                        "maxProperties",
                                                        "minProperties",
                                                        "required",
                                                        "allOf",
                                                        "oneOf",
                                                        "anyOf",
                                                        "not"};
  if (v.is_null() || !kStructuralKeys.count(key)) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  if (key == "enum" || key == "allOf" || key == "oneOf" || key == "anyOf") return !v.empty();
  if (key == "properties") return !v.empty();
  return true;
}

// The set keywords of a node other than those in `except`.
std::vector<std::string> SetKeys(const Json& s, std::initializer_list<const char*> except = {}) {
  std::vector<std::string> out;
  for (auto it = s.begin(); it != s.end(); ++it) {
    if (std::any_of(except.begin(), except.end(), [&](const char* e) { return it.key() == e; })) continue;
    if (IsSet(it.key(), *it)) out.push_back(it.key());
  }
  return out;
}

// An anyOf entry of the int-or-string pattern: `type: <type>` and nothing else.
bool IsOnlyType(const Json& s, const char* type) {
  return s.is_object() && GetString(s, "type") == type && SetKeys(s, {"type"}).empty();
}

bool IsIntOrStringAnyOf(const Json& s) {
  const Json* any = Get(s, "anyOf");
  return any && any->is_array() && any->size() == 2 && IsOnlyType((*any)[0], "integer") &&
         IsOnlyType((*any)[1], "string");
}

bool IsIntOrStringAllOf(const Json& s) {
  const Json* all = Get(s, "allOf");
  return all && all->is_array() && !all->empty() && (*all)[0].is_object() && IsIntOrStringAnyOf((*all)[0]);
}

// The entries of a list keyword (allOf, anyOf, oneOf) or an empty list.
const Json& List(const Json& s, const char* key) {
  static const Json kEmpty = Json::array();
  const Json* v = Get(s, key);
  return v && v->is_array() ? *v : kEmpty;
}

class StructuralValidator {
 public:
  ErrorList errs;

  void Invariants(const Json& s, Level lvl, const Path& p) {
    if (!s.is_object()) return;
    const std::string type = GetString(s, "type");
    const Json* items = GetSchema(s, "items");
    if (type == "array" && !items) errs.push_back(validation::Required(p.Child("items"), "must be specified"));
    if (items) Invariants(*items, Level::kItem, p.Child("items"));
    if (const Json* props = GetSchema(s, "properties")) {
      for (auto it = props->begin(); it != props->end(); ++it) {
        Invariants(*it, Level::kField, p.Child("properties").Key(it.key()));
      }
    }
    if (HasAdditionalProperties(s)) {
      if (lvl == Level::kRoot)
        errs.push_back(validation::Forbidden(p.Child("additionalProperties"), "must not be used at the root"));
      if (const Json* ap = AdditionalPropertiesSchema(s))
        Invariants(*ap, Level::kField, p.Child("additionalProperties"));
    }
    const bool int_or_string = IsIntOrString(s), preserve = PreservesUnknownFields(s), embedded = IsEmbeddedResource(s);
    if (int_or_string && preserve) {
      errs.push_back(InvalidGo(p.Child("x-kubernetes-preserve-unknown-fields").String(), true,
                               "must be false if x-kubernetes-int-or-string is true"));
    }
    if (int_or_string && embedded) {
      errs.push_back(InvalidGo(p.Child("x-kubernetes-embedded-resource").String(), true,
                               "must be false if x-kubernetes-int-or-string is true"));
    }
    ValueValidation(s, IsIntOrStringAnyOf(s), IsIntOrStringAllOf(s), lvl, p);
    TypeRules(s, type, lvl, p);
  }

 private:
  void TypeRules(const Json& s, const std::string& type, Level lvl, const Path& p) {
    const bool embedded = IsEmbeddedResource(s);
    if (embedded && type != "object") {
      if (type.empty()) {
        errs.push_back(
            validation::Required(p.Child("type"), "must be object if x-kubernetes-embedded-resource is true"));
      } else {
        errs.push_back(
            InvalidGo(p.Child("type").String(), type, "must be object if x-kubernetes-embedded-resource is true"));
      }
    } else if (type.empty() && !IsIntOrString(s) && !PreservesUnknownFields(s)) {
      const char* detail = lvl == Level::kRoot   ? "must not be empty at the root"
                           : lvl == Level::kItem ? "must not be empty for specified array items"
                                                 : "must not be empty for specified object fields";
      errs.push_back(validation::Required(p.Child("type"), detail));
    }
    if (embedded && HasAdditionalProperties(s)) {
      errs.push_back(validation::Forbidden(p.Child("additionalProperties"),
                                           "must not be used if x-kubernetes-embedded-resource is set"));
    }
    if (lvl == Level::kRoot && !type.empty() && type != "object") {
      errs.push_back(InvalidGo(p.Child("type").String(), type, "must be object at the root"));
    }
    const bool check_metadata = lvl == Level::kRoot || embedded;
    for (const char* k : {"kind", "apiVersion"}) {
      const Json* prop = Property(s, k);
      if (prop && check_metadata && GetString(*prop, "type") != "string") {
        errs.push_back(
            InvalidGo(p.Child("properties").Key(k).Child("type").String(), GetString(*prop, "type"), "must be string"));
      }
    }
    if (const Json* meta = Property(s, "metadata"))
      Metadata(*meta, check_metadata, lvl, p.Child("properties").Key("metadata"));
    const Json* props = GetSchema(s, "properties");
    if (embedded && !PreservesUnknownFields(s) && (!props || props->empty())) {
      errs.push_back(validation::Required(
          p.Child("properties"),
          "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"));
    }
  }

  // Root metadata may restrict name and generateName, nothing else.
  void Metadata(const Json& s, bool check_metadata, Level lvl, const Path& p) {
    const std::string type = GetString(s, "type");
    if (check_metadata && type != "object") errs.push_back(InvalidGo(p.Child("type").String(), type, "must be object"));
    if (lvl != Level::kRoot) return;
    const Json* props = GetSchema(s, "properties");
    const bool name = props && props->contains("name"), generate = props && props->contains("generateName");
    const size_t n = props ? props->size() : 0;
    const bool only_names = (name && generate && n == 2) || ((name || generate) && n == 1);
    std::vector<std::string> rest = SetKeys(s, {"type", "default"});
    if (only_names) rest.erase(std::remove(rest.begin(), rest.end(), "properties"), rest.end());
    if (!rest.empty()) {
      errs.push_back(validation::Forbidden(
          p, "must not specify anything other than name and generateName, but metadata is implicitly specified"));
    }
  }

  void ValueValidation(const Json& v, bool skip_any_of, bool skip_first_all_of_any_of, Level lvl, const Path& p) {
    if (!skip_any_of) {
      const Json& any = List(v, "anyOf");
      for (size_t i = 0; i < any.size(); ++i) Nested(any[i], false, lvl, p.Child("anyOf").Index(i));
    }
    const Json& all = List(v, "allOf");
    for (size_t i = 0; i < all.size(); ++i)
      Nested(all[i], skip_first_all_of_any_of && i == 0, lvl, p.Child("allOf").Index(i));
    const Json& one = List(v, "oneOf");
    for (size_t i = 0; i < one.size(); ++i) Nested(one[i], false, lvl, p.Child("oneOf").Index(i));
    if (const Json* no = GetSchema(v, "not")) Nested(*no, false, lvl, p.Child("not"));
    if (const std::string pattern = GetString(v, "pattern"); !pattern.empty()) {
      std::string error;
      if (!CompilePattern(pattern, &error)) {
        errs.push_back(
            InvalidGo(p.Child("pattern").String(), pattern, "must be a valid regular expression, but isn't: " + error));
      }
    }
  }

  // A schema under allOf/anyOf/oneOf/not may only hold value validations.
  void Nested(const Json& v, bool skip_any_of, Level lvl, const Path& p) {
    if (!v.is_object()) return;
    ValueValidation(v, skip_any_of, false, lvl, p);
    if (const Json* items = GetSchema(v, "items")) Nested(*items, false, lvl, p.Child("items"));
    if (const Json* props = GetSchema(v, "properties")) {
      for (auto it = props->begin(); it != props->end(); ++it)
        Nested(*it, false, Level::kField, p.Child("properties").Key(it.key()));
    }
    auto forbid = [&](const char* key, const char* detail) {
      errs.push_back(validation::Forbidden(p.Child(key), detail));
    };
    if (!GetString(v, "type").empty()) forbid("type", "must be empty to be structural");
    if (const Json* ap = Get(v, "additionalProperties");
        ap && (ap->is_object() || (ap->is_boolean() && ap->get<bool>()))) {
      forbid("additionalProperties", "must be undefined to be structural");
    }
    if (DefaultValue(v)) forbid("default", "must be undefined to be structural");
    if (!GetString(v, "title").empty()) forbid("title", "must be empty to be structural");
    if (!GetString(v, "description").empty()) forbid("description", "must be empty to be structural");
    if (IsNullable(v)) forbid("nullable", "must be false to be structural");
    if (PreservesUnknownFields(v)) forbid("x-kubernetes-preserve-unknown-fields", "must be false to be structural");
    if (IsEmbeddedResource(v)) forbid("x-kubernetes-embedded-resource", "must be false to be structural");
    if (IsIntOrString(v)) forbid("x-kubernetes-int-or-string", "must be false to be structural");
    if (const Json* keys = Get(v, "x-kubernetes-list-map-keys"); keys && keys->is_array() && !keys->empty()) {
      forbid("x-kubernetes-list-map-keys", "must be empty to be structural");
    }
    if (Get(v, "x-kubernetes-list-type")) forbid("x-kubernetes-list-type", "must be undefined to be structural");
    if (Get(v, "x-kubernetes-map-type")) forbid("x-kubernetes-map-type", "must be undefined to be structural");
    if (const Json* rules = Get(v, "x-kubernetes-validations"); rules && rules->is_array() && !rules->empty()) {
      forbid("x-kubernetes-validations", "must be empty to be structural");
    }
    if (const Json* props = GetSchema(v, "properties"); props && props->contains("metadata")) {
      errs.push_back(
          validation::Forbidden(p.Child("properties").Key("metadata"), "must not be specified in a nested context"));
    }
  }

 public:
  // complete.go: what a junctor constrains must also be specified structurally.
  void Completeness(const Json& v, const Json* s, const Path& s_path, const Path& v_path) {
    if (!s) {
      errs.push_back(validation::Required(s_path, "because it is defined in " + v_path.String()));
      return;
    }
    if (const Json* no = GetSchema(v, "not")) NestedCompleteness(*no, s, s_path, v_path.Child("not"));
    for (const char* key : {"allOf", "anyOf", "oneOf"}) {
      const Json& list = List(v, key);
      for (size_t i = 0; i < list.size(); ++i) NestedCompleteness(list[i], s, s_path, v_path.Child(key).Index(i));
    }
  }

 private:
  void NestedCompleteness(const Json& v, const Json* s, const Path& s_path, const Path& v_path) {
    if (!v.is_object()) return;
    if (!s) {
      errs.push_back(validation::Required(s_path, "because it is defined in " + v_path.String()));
      return;
    }
    Completeness(v, s, s_path, v_path);
    if (const Json* items = GetSchema(v, "items")) {
      NestedCompleteness(*items, GetSchema(*s, "items"), s_path.Child("items"), v_path.Child("items"));
    }
    if (const Json* props = GetSchema(v, "properties")) {
      for (auto it = props->begin(); it != props->end(); ++it) {
        const Path sp = s_path.Child("properties").Key(it.key()), vp = v_path.Child("properties").Key(it.key());
        if (const Json* prop = Property(*s, it.key())) {
          NestedCompleteness(*it, prop, sp, vp);
        } else if (it->is_object()) {
          errs.push_back(validation::Required(sp, "because it is defined in " + vp.String()));
        }
      }
    }
  }
};

// The unsupported-keyword checks NewStructural runs on one node.
std::string Unsupported(const Json& s) {
  auto non_empty = [&](const char* key) {
    const Json* v = Get(s, key);
    return v && !(v->is_string() || v->is_object() || v->is_array() ? v->empty() : false);
  };
  if (!GetString(s, "id").empty()) return "OpenAPIV3Schema 'id' is not supported";
  if (!GetString(s, "$schema").empty()) return "OpenAPIV3Schema 'schema' is not supported";
  if (!GetString(s, "$ref").empty()) return "OpenAPIV3Schema '$ref' is not supported";
  if (non_empty("patternProperties")) return "OpenAPIV3Schema 'patternProperties' is not supported";
  if (non_empty("dependencies")) return "OpenAPIV3Schema 'dependencies' is not supported";
  if (Get(s, "additionalItems")) return "OpenAPIV3Schema 'additionalItems' is not supported";
  if (non_empty("definitions")) return "OpenAPIV3Schema 'definitions' is not supported";
  return "";
}

std::string Convert(const Json& s) {
  if (!s.is_object()) return "";
  if (std::string e = Unsupported(s); !e.empty()) return e;
  if (const Json* no = GetSchema(s, "not")) {
    if (std::string e = Convert(*no); !e.empty()) return e;
  }
  for (const char* key : {"allOf", "anyOf", "oneOf"}) {
    for (const Json& sub : List(s, key)) {
      if (std::string e = Convert(sub); !e.empty()) return e;
    }
  }
  if (const Json* p = Get(s, "x-kubernetes-preserve-unknown-fields"); p && p->is_boolean() && !p->get<bool>()) {
    return "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined";
  }
  if (const Json* items = Get(s, "items")) {
    if (items->is_array()) return "OpenAPIV3Schema 'items' must be a schema, but is an array";
    if (std::string e = Convert(*items); !e.empty()) return e;
  }
  if (const Json* props = GetSchema(s, "properties")) {
    for (const Json& prop : *props) {
      if (std::string e = Convert(prop); !e.empty()) return e;
    }
  }
  if (const Json* ap = AdditionalPropertiesSchema(s)) return Convert(*ap);
  return "";
}

}  // namespace

std::string NewStructuralError(const Json& schema) { return Convert(schema); }

validation::ErrorList ValidateStructural(const Json& schema, const validation::Path& path) {
  StructuralValidator v;
  v.Invariants(schema, Level::kRoot, path);
  if (schema.is_object()) v.Completeness(schema, &schema, path, path);
  std::sort(v.errs.begin(), v.errs.end(), [](const validation::FieldError& a, const validation::FieldError& b) {
    return a.ToString() < b.ToString();
  });
  return v.errs;
}

}  // namespace kubes::crd
