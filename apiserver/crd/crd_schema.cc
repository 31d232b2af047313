#include "apiserver/crd/crd_schema.h"

#include <algorithm>
#include <map>

#include "apiserver/crd/defaulting.h"
#include "apiserver/crd/gojson.h"
#include "apiserver/crd/schema_node.h"
#include "apiserver/crd/structural.h"

namespace kubes::crd {
namespace {

using validation::ErrorList;
using validation::Path;

// --- Shape: what decoding into JSONSchemaProps would refuse -------------------------
// Upstream fails the whole request with a JSON decode error; kubes reports the keyword.

enum class Shape {
  kString,
  kBool,
  kNumber,
  kInteger,
  kStrings,
  kSchema,
  kSchemas,
  kSchemaMap,
  kSchemaOrBool,
  kSchemaOrSchemas,
  kArray,
  kRules,
  kDependencies
};

// Far deeper than any real schema; bounds the recursion of every later pass.
constexpr int kMaxSchemaDepth = 256;

void CheckShape(const Json& s, const Path& p, int depth, ErrorList& errs);

void ExpectSchema(const Json& v, const Path& p, int depth, ErrorList& errs) {
  if (v.is_object()) {
    CheckShape(v, p, depth + 1, errs);
  } else if (!v.is_null()) {
    errs.push_back(InvalidGo(p.String(), v, "must be an object"));
  }
}

void CheckKeyword(const Json& v, Shape shape, const Path& p, int depth, ErrorList& errs) {
  auto bad = [&](const char* what) { errs.push_back(InvalidGo(p.String(), v, std::string("must be ") + what)); };
  switch (shape) {
    case Shape::kString:
      if (!v.is_string()) bad("a string");
      break;
    case Shape::kBool:
      if (!v.is_boolean()) bad("a boolean");
      break;
    case Shape::kNumber:
      if (!v.is_number()) bad("a number");
      break;
    case Shape::kInteger:
      if (!v.is_number_integer()) bad("an integer");
      break;
    case Shape::kArray:
      if (!v.is_array()) bad("an array");
      break;
    case Shape::kStrings:
      if (!v.is_array() || !std::all_of(v.begin(), v.end(), [](const Json& e) { return e.is_string(); }))
        bad("a list of strings");
      break;
    case Shape::kSchema: ExpectSchema(v, p, depth, errs); break;
    case Shape::kSchemas:
      if (!v.is_array()) return bad("a list of schemas");
      for (size_t i = 0; i < v.size(); ++i) ExpectSchema(v[i], p.Index(i), depth, errs);
      break;
    case Shape::kSchemaMap:
      if (!v.is_object()) return bad("an object");
      for (auto it = v.begin(); it != v.end(); ++it) ExpectSchema(*it, p.Key(it.key()), depth, errs);
      break;
    case Shape::kSchemaOrBool:
      if (!v.is_boolean()) ExpectSchema(v, p, depth, errs);
      break;
    case Shape::kSchemaOrSchemas:
      if (v.is_array()) return CheckKeyword(v, Shape::kSchemas, p, depth, errs);
      ExpectSchema(v, p, depth, errs);
      break;
    case Shape::kDependencies:
      if (!v.is_object()) return bad("an object");
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!it->is_array()) ExpectSchema(*it, p.Key(it.key()), depth, errs);
      }
      break;
    case Shape::kRules:
      if (!v.is_array()) return bad("a list of rules");
      for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_object()) {
          errs.push_back(InvalidGo(p.Index(i).String(), v[i], "must be an object"));
          continue;
        }
        for (const char* k : {"rule", "message", "messageExpression", "reason", "fieldPath"}) {
          if (const Json* f = Get(v[i], k); f && !f->is_string())
            CheckKeyword(*f, Shape::kString, p.Index(i).Child(k), depth, errs);
        }
      }
      break;
  }
}

void CheckShape(const Json& s, const Path& p, int depth, ErrorList& errs) {
  if (depth > kMaxSchemaDepth) {
    errs.push_back(validation::Forbidden(p, "must not be nested more than " + std::to_string(kMaxSchemaDepth) + " levels deep"));
    return;
  }
  static const std::map<std::string, Shape> kKeywords = {{"type", Shape::kString},
                                                         {"format", Shape::kString},
                                                         {"description", Shape::kString},
                                                         {"title", Shape::kString},
                                                         {"pattern", Shape::kString},
                                                         {"id", Shape::kString},
                                                         {"$schema", Shape::kString},
                                                         {"$ref", Shape::kString},
                                                         {"x-kubernetes-list-type", Shape::kString},
                                                         {"x-kubernetes-map-type", Shape::kString},
                                                         {"nullable", Shape::kBool},
                                                         {"exclusiveMaximum", Shape::kBool},
                                                         {"exclusiveMinimum", Shape::kBool},
                                                         {"uniqueItems", Shape::kBool},
                                                         {"x-kubernetes-embedded-resource", Shape::kBool},
                                                         {"x-kubernetes-int-or-string", Shape::kBool},
                                                         {"x-kubernetes-preserve-unknown-fields", Shape::kBool},
                                                         {"maximum", Shape::kNumber},
                                                         {"minimum", Shape::kNumber},
                                                         {"multipleOf", Shape::kNumber},
                                                         {"maxLength", Shape::kInteger},
                                                         {"minLength", Shape::kInteger},
                                                         {"maxItems", Shape::kInteger},
                                                         {"minItems", Shape::kInteger},
                                                         {"maxProperties", Shape::kInteger},
                                                         {"minProperties", Shape::kInteger},
                                                         {"required", Shape::kStrings},
                                                         {"x-kubernetes-list-map-keys", Shape::kStrings},
                                                         {"enum", Shape::kArray},
                                                         {"allOf", Shape::kSchemas},
                                                         {"anyOf", Shape::kSchemas},
                                                         {"oneOf", Shape::kSchemas},
                                                         {"not", Shape::kSchema},
                                                         {"properties", Shape::kSchemaMap},
                                                         {"patternProperties", Shape::kSchemaMap},
                                                         {"definitions", Shape::kSchemaMap},
                                                         {"items", Shape::kSchemaOrSchemas},
                                                         {"additionalProperties", Shape::kSchemaOrBool},
                                                         {"additionalItems", Shape::kSchemaOrBool},
                                                         {"dependencies", Shape::kDependencies},
                                                         {"x-kubernetes-validations", Shape::kRules}};
  for (auto it = s.begin(); it != s.end(); ++it) {
    auto k = kKeywords.find(it.key());
    if (k != kKeywords.end() && !it->is_null()) CheckKeyword(*it, k->second, p.Child(it.key()), depth, errs);
  }
}

// --- ValidateCustomResourceDefinitionOpenAPISchema ----------------------------------

struct Context {
  bool allow_defaults = true;
  std::string disallow_defaults_reason;
  bool inside_resource_meta = false;

  Context ForbidDefaults(std::string reason) const {
    Context c = *this;
    c.allow_defaults = false;
    c.disallow_defaults_reason = std::move(reason);
    return c;
  }
};

bool IsMetaField(const std::string& k) { return k == "apiVersion" || k == "kind" || k == "metadata"; }

std::vector<std::string> Strings(const Json* v) {
  std::vector<std::string> out;
  if (v && v->is_array()) {
    for (const Json& e : *v) {
      if (e.is_string()) out.push_back(e.get<std::string>());
    }
  }
  return out;
}

// Go's %#v of a []string: []string{"a", "b"}.
std::string GoStrings(const std::vector<std::string>& v) {
  std::string out = "[]string{";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + Json(v[i]).dump();
  return out + "}";
}

bool HasNewlines(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\n\v\f\r"), e = s.find_last_not_of(" \t\n\v\f\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

class OpenAPISchemaValidator {
 public:
  ErrorList errs;

  void Validate(const Json& s, const Path& p, const Context& ctx, bool is_root) {
    if (!s.is_object()) return;
    Standard(s, p, ctx);
    if (GetBool(s, "uniqueItems")) {
      errs.push_back(validation::Forbidden(
          p.Child("uniqueItems"), "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"));
    }
    const Json* props = GetSchema(s, "properties");
    if (const Json* ap = Get(s, "additionalProperties"); ap && (ap->is_boolean() || ap->is_object())) {
      if (props && !props->empty() && (ap->is_object() || !ap->get<bool>())) {
        errs.push_back(validation::Forbidden(p.Child("additionalProperties"),
                                             "additionalProperties and properties are mutual exclusive"));
      }
      const Context sub = ctx.inside_resource_meta
                              ? ctx.ForbidDefaults("inside additionalProperties applying to object metadata")
                              : ctx;
      if (ap->is_object()) Validate(*ap, p.Child("additionalProperties"), sub, false);
    }
    if (props) {
      for (auto it = props->begin(); it != props->end(); ++it) {
        Context sub = ctx;
        if ((is_root || IsEmbeddedResource(s)) && IsMetaField(it.key())) {
          sub.inside_resource_meta = true;
          if (is_root) sub = sub.ForbidDefaults("in top-level " + it.key());
        }
        Validate(*it, p.Child("properties").Key(it.key()), sub, false);
      }
    }
    if (const Json* no = GetSchema(s, "not")) Validate(*no, p.Child("not"), ctx, false);
    for (const char* key : {"allOf", "oneOf", "anyOf"}) {
      if (const Json* list = Get(s, key); list && list->is_array()) {
        for (size_t i = 0; i < list->size(); ++i) Validate((*list)[i], p.Child(key).Index(i), ctx, false);
      }
    }
    auto each = [&](const char* key) {
      if (const Json* map = GetSchema(s, key)) {
        for (auto it = map->begin(); it != map->end(); ++it) Validate(*it, p.Child(key).Key(it.key()), ctx, false);
      }
    };
    each("definitions");
    if (const Json* items = Get(s, "items"); items && items->is_object()) {
      Validate(*items, p.Child("items"), ctx, false);
    } else if (items && items->is_array()) {
      for (size_t i = 0; i < items->size(); ++i) Validate((*items)[i], p.Child("items").Index(i), ctx, false);
    }
    each("dependencies");
    Extensions(s, p);
    ValidationRules(s, p);
  }

 private:
  // specStandardValidatorV3.validate.
  void Standard(const Json& s, const Path& p, const Context& ctx) {
    static const std::vector<std::string> kTypes = {"array", "boolean", "integer", "number", "object", "string"};
    const std::string type = GetString(s, "type");
    if (!type.empty() && std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end()) {
      errs.push_back(validation::NotSupported(p.Child("type"), type, kTypes));
    }
    if (DefaultValue(s) && !ctx.allow_defaults) {
      std::string detail = "must not be set";
      if (!ctx.disallow_defaults_reason.empty()) detail += " " + ctx.disallow_defaults_reason;
      errs.push_back(validation::Forbidden(p.Child("default"), detail));
    }
    auto forbid = [&](const char* key, const char* detail) {
      errs.push_back(validation::Forbidden(p.Child(key), detail));
    };
    auto non_empty = [&](const char* key) {
      const Json* v = Get(s, key);
      return v && !(v->is_object() && v->empty());
    };
    if (!GetString(s, "id").empty()) forbid("id", "id is not supported");
    if (Get(s, "additionalItems")) forbid("additionalItems", "additionalItems is not supported");
    if (non_empty("patternProperties")) forbid("patternProperties", "patternProperties is not supported");
    if (non_empty("definitions")) forbid("definitions", "definitions is not supported");
    if (Get(s, "dependencies")) forbid("dependencies", "dependencies is not supported");
    if (Get(s, "$ref")) forbid("$ref", "$ref is not supported");
    if (type == "null") forbid("type", "type cannot be set to null, use nullable as an alternative");
    if (const Json* items = Get(s, "items"); items && items->is_array() && !items->empty()) {
      forbid("items", "items must be a schema object and not an array");
    }
    if (ctx.inside_resource_meta && IsEmbeddedResource(s))
      forbid("x-kubernetes-embedded-resource", "must not be used inside of resource meta");
  }

  // x-kubernetes-preserve-unknown-fields, -map-type, -list-type and -list-map-keys.
  void Extensions(const Json& s, const Path& p) {
    const std::string type = GetString(s, "type");
    if (const Json* v = Get(s, "x-kubernetes-preserve-unknown-fields"); v && v->is_boolean() && !v->get<bool>()) {
      errs.push_back(
          InvalidGo(p.Child("x-kubernetes-preserve-unknown-fields").String(), false, "must be true or undefined"));
    }
    const Json* map_type = Get(s, "x-kubernetes-map-type");
    if (map_type) RequireType(type, "object", "must be object if x-kubernetes-map-type is specified", p);
    if (map_type && *map_type != "atomic" && *map_type != "granular") {
      errs.push_back(validation::NotSupported(p.Child("x-kubernetes-map-type"), *map_type, {"atomic", "granular"}));
    }
    const Json* list_type = Get(s, "x-kubernetes-list-type");
    const std::string lt = list_type && list_type->is_string() ? list_type->get<std::string>() : "";
    const Json* items = GetSchema(s, "items");
    if (list_type && type != "array") {
      RequireType(type, "array", "must be array if x-kubernetes-list-type is specified", p);
    } else if (lt == "set" && items) {
      const std::string item_type = GetString(*items, "type");
      const Json* item_list = Get(*items, "x-kubernetes-list-type");
      const Json* item_map = Get(*items, "x-kubernetes-map-type");
      const char* detail = "must be atomic as item of a list with x-kubernetes-list-type=set";
      if (item_type == "array" && item_list && *item_list != "atomic") {
        errs.push_back(InvalidGo(p.Child("items").Child("x-kubernetes-list-type").String(), *item_list, detail));
      } else if (item_type == "object" && (!item_map || *item_map != "atomic")) {
        // Upstream reports the item's list type here, usually unset.
        errs.push_back(InvalidGo(p.Child("items").Child("x-kubernetes-map-type").String(),
                                 item_list ? *item_list : Json(nullptr), detail));
      }
    }
    if (list_type && lt != "atomic" && lt != "set" && lt != "map") {
      errs.push_back(validation::NotSupported(p.Child("x-kubernetes-list-type"), *list_type, {"atomic", "set", "map"}));
    }
    const std::vector<std::string> keys = Strings(Get(s, "x-kubernetes-list-map-keys"));
    if (!keys.empty() && !list_type) {
      errs.push_back(validation::Required(p.Child("x-kubernetes-list-type"),
                                          "must be map if x-kubernetes-list-map-keys is non-empty"));
    } else if (!keys.empty() && lt != "map") {
      errs.push_back(InvalidGo(p.Child("x-kubernetes-list-type").String(), *list_type,
                               "must be map if x-kubernetes-list-map-keys is non-empty"));
    }
    if (lt == "map") ListMap(s, keys, p);
    if ((lt == "set" || lt == "map") && items) MapListKeysMapSet(*items, lt, keys, p);
  }

  void RequireType(const std::string& type, const char* want, const char* detail, const Path& p) {
    if (type == want) return;
    if (type.empty()) {
      errs.push_back(validation::Required(p.Child("type"), detail));
    } else {
      errs.push_back(InvalidGo(p.Child("type").String(), type, detail));
    }
  }

  void ListMap(const Json& s, const std::vector<std::string>& keys, const Path& p) {
    if (keys.empty())
      errs.push_back(validation::Required(p.Child("x-kubernetes-list-map-keys"),
                                          "must not be empty if x-kubernetes-list-type is map"));
    const Json* items = Get(s, "items");
    if (!items)
      errs.push_back(validation::Required(p.Child("items"), "must have a schema if x-kubernetes-list-type is map"));
    if (items && !items->is_object()) {
      errs.push_back(InvalidGo(p.Child("items").String(), *items,
                               "must only have a single schema if x-kubernetes-list-type is map"));
      return;
    }
    if (!items) return;
    const std::string item_type = GetString(*items, "type");
    if (item_type != "object") {
      errs.push_back(InvalidGo(p.Child("items").Child("type").String(), item_type,
                               "must be object if parent array's x-kubernetes-list-type is map"));
      return;
    }
    const std::string keys_field = p.Child("x-kubernetes-list-map-keys").String();
    std::vector<std::string> seen;
    for (const auto& k : keys) {
      if (const Json* prop = Property(*items, k)) {
        const std::string t = GetString(*prop, "type");
        if (t == "array" || t == "object") {
          errs.push_back(InvalidGo(p.Child("items").Child("properties").Key(k).Child("type").String(), item_type,
                                   "must be a scalar type if parent array's x-kubernetes-list-type is map"));
        }
      } else {
        errs.push_back({validation::ErrorType::kInvalid, keys_field, GoStrings(keys),
                        "entries must all be names of item properties", true});
      }
      if (std::find(seen.begin(), seen.end(), k) != seen.end()) {
        errs.push_back(
            {validation::ErrorType::kInvalid, keys_field, GoStrings(keys), "must not contain duplicate entries", true});
      }
      seen.push_back(k);
    }
  }

  // validateMapListKeysMapSet: set and map items are not nullable; map keys are
  // required or defaulted, and not nullable.
  void MapListKeysMapSet(const Json& items, const std::string& lt, const std::vector<std::string>& keys,
                         const Path& p) {
    if (IsNullable(items)) {
      errs.push_back(validation::Forbidden(p.Child("items").Child("nullable"),
                                           "cannot be nullable when x-kubernetes-list-type is " + lt));
    }
    if (lt != "map") return;
    const std::vector<std::string> required = Strings(Get(items, "required"));
    for (const auto& k : keys) {
      const Json* prop = Property(items, k);
      if (!prop) continue;
      const Path at = p.Child("items").Child("properties").Key(k);
      if (std::find(required.begin(), required.end(), k) == required.end() && !DefaultValue(*prop)) {
        errs.push_back(validation::Required(
            at.Child("default"),
            "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"));
      }
      if (IsNullable(*prop)) {
        errs.push_back(validation::Forbidden(
            at.Child("nullable"), "this property is in x-kubernetes-list-map-keys, so it cannot be nullable"));
      }
    }
  }

  // The static checks of x-kubernetes-validations entries (CEL is not compiled).
  void ValidationRules(const Json& s, const Path& p) {
    const Json* rules = Get(s, "x-kubernetes-validations");
    if (!rules || !rules->is_array()) return;
    static const std::vector<std::string> kReasons = {"FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid",
                                                      "FieldValueRequired"};
    for (size_t i = 0; i < rules->size(); ++i) {
      const Json& r = (*rules)[i];
      const Path at = p.Child("x-kubernetes-validations").Index(i);
      const std::string rule = Trim(GetString(r, "rule")), raw_message = GetString(r, "message"),
                        message = Trim(raw_message);
      if (rule.empty()) {
        errs.push_back(validation::Required(at.Child("rule"), "rule is not specified"));
      } else if (!raw_message.empty() && message.empty()) {
        errs.push_back(InvalidGo(at.Child("message").String(), raw_message, "message must be non-empty if specified"));
      } else if (HasNewlines(message)) {
        errs.push_back(InvalidGo(at.Child("message").String(), raw_message, "message must not contain line breaks"));
      } else if (HasNewlines(rule) && message.empty()) {
        errs.push_back(
            validation::Required(at.Child("message"), "message must be specified if rule contains line breaks"));
      }
      const std::string expr = GetString(r, "messageExpression");
      if (!expr.empty() && Trim(expr).empty()) {
        errs.push_back(
            validation::Required(at.Child("messageExpression"), "messageExpression must be non-empty if specified"));
      }
      if (const Json* reason = Get(r, "reason");
          reason && reason->is_string() &&
          std::find(kReasons.begin(), kReasons.end(), reason->get<std::string>()) == kReasons.end()) {
        errs.push_back(validation::NotSupported(at.Child("reason"), *reason, kReasons));
      }
      const std::string field_path = GetString(r, "fieldPath");
      if (!field_path.empty() && Trim(field_path).empty()) {
        errs.push_back(
            InvalidGo(at.Child("fieldPath").String(), field_path, "fieldPath must be non-empty if specified"));
      }
      if (HasNewlines(field_path)) {
        errs.push_back(InvalidGo(at.Child("fieldPath").String(), field_path, "fieldPath must not contain line breaks"));
      }
    }
  }
};

}  // namespace

validation::ErrorList ValidateSchema(const Json& schema, const validation::Path& path) {
  ErrorList errs;
  if (!schema.is_object()) {
    errs.push_back(InvalidGo(path.String(), schema, "must be an object"));
    return errs;
  }
  CheckShape(schema, path, 0, errs);
  if (!errs.empty()) return errs;
  if (IsNullable(schema))
    errs.push_back(validation::Forbidden(path.Child("nullable"), "nullable cannot be true at the root"));
  const std::string conversion_error = NewStructuralError(schema);
  if (conversion_error.empty()) {
    ErrorList structural = ValidateStructural(schema, path);
    if (structural.empty()) structural = ValidateDefaults(schema, path);
    errs.insert(errs.end(), structural.begin(), structural.end());
  }
  OpenAPISchemaValidator openapi;
  openapi.Validate(schema, path, Context{}, true);
  errs.insert(errs.end(), openapi.errs.begin(), openapi.errs.end());
  if (errs.empty() && !conversion_error.empty()) errs.push_back(InvalidGo(path.String(), "", conversion_error));
  return errs;
}

Status CheckStructural(const Json& schema) {
  const ErrorList errs = ValidateSchema(schema, validation::Path());
  if (errs.empty()) return Status::OK();
  std::string message;
  std::vector<Cause> causes;
  for (const auto& e : errs) {
    message += (message.empty() ? "" : ", ") + e.ToString();
    causes.push_back({e.Reason(), e.Body(), e.field});
  }
  if (errs.size() > 1) message = "[" + message + "]";
  return Invalid(message).WithCauses(std::move(causes));
}

}  // namespace kubes::crd
