#include "api/decode.h"

#include "util/strings.h"

#include <cctype>

namespace kubes::api {
namespace {

using validation::ErrorList;
using validation::Path;


// Go's name for the JSON type of a value, as its decoder words mismatches.
const char* JsonTypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "bool";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "number";
    case Json::value_t::array: return "array";
    case Json::value_t::object: return "object";
    default: return "null";
  }
}

std::string GoTypeName(const TypeRef& t) {
  switch (t.kind) {
    case ValueKind::kString: return "string";
    case ValueKind::kBytes: return "[]uint8";
    case ValueKind::kBool: return "bool";
    case ValueKind::kInt32: return "int32";
    case ValueKind::kInt64: return "int64";
    case ValueKind::kDouble: return "float64";
    case ValueKind::kObject: return t.object ? t.object->package.substr(t.object->package.rfind('.', t.object->package.rfind('.') - 1) + 1) + "." + t.object->name : t.name;
    case ValueKind::kList: return "[]" + GoTypeName(*t.elem);
    case ValueKind::kMap: return "map[string]" + GoTypeName(*t.elem);
    default: return t.ToString();
  }
}

bool IsInteger(const Json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return true;
  if (v.is_number_float()) {
    double d = v.get<double>();
    return d == static_cast<double>(static_cast<long long>(d));
  }
  return false;
}

class Checker {
 public:
  explicit Checker(DecodeReport& r) : report_(r) {}

  // type_name: the Go struct that holds the field (for the type error message).
  void Value(Json& v, const TypeRef& t, const std::string& path, const std::string& holder) {
    if (v.is_null()) return;  // null is "unset" for every type
    auto mismatch = [&] {
      if (report_.type_error.empty()) {
        report_.type_error = std::string("json: cannot unmarshal ") + JsonTypeName(v) + " into Go struct field " +
                             holder + "." + path + " of type " + GoTypeName(t);
      }
    };
    switch (t.kind) {
      case ValueKind::kString:
      case ValueKind::kBytes:
      case ValueKind::kTime:
      case ValueKind::kMicroTime:
      case ValueKind::kDuration:
        if (!v.is_string()) mismatch();
        return;
      case ValueKind::kBool:
        if (!v.is_boolean()) mismatch();
        return;
      case ValueKind::kInt32:
      case ValueKind::kInt64:
        if (!IsInteger(v)) mismatch();
        else if (v.is_number_float()) v = static_cast<int64_t>(v.get<double>());
        return;
      case ValueKind::kDouble:
        if (!v.is_number()) mismatch();
        return;
      case ValueKind::kIntOrString:
        if (!v.is_string() && !IsInteger(v)) mismatch();
        return;
      case ValueKind::kQuantity:
        if (v.is_number()) {
          v = IsInteger(v) ? std::to_string(v.get<int64_t>()) : Json(v.get<double>()).dump();
        } else if (!v.is_string()) {
          mismatch();
        } else if (!IsQuantity(v.get<std::string>()) && report_.type_error.empty()) {
          report_.type_error = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
        }
        return;
      case ValueKind::kRawExtension:
      case ValueKind::kAny:
        return;
      case ValueKind::kObject:
        if (!v.is_object()) return mismatch();
        if (t.object) Object(v, *t.object, path);
        return;
      case ValueKind::kList:
        if (!v.is_array()) return mismatch();
        for (size_t i = 0; i < v.size(); ++i) Value(v[i], *t.elem, path + "[" + std::to_string(i) + "]", holder);
        return;
      case ValueKind::kMap:
        if (!v.is_object()) return mismatch();
        for (auto& [k, item] : v.items()) Value(item, *t.elem, path + "[" + k + "]", holder);
        return;
    }
  }

  void Object(Json& obj, const TypeSchema& schema, const std::string& path) {
    std::vector<std::string> unknown;
    for (auto& [name, value] : obj.items()) {
      const FieldSchema* f = schema.Field(name);
      if (!f) {
        unknown.push_back(name);
        continue;
      }
      // Unset or false (a switch left off) asks for nothing kubes lacks.
      if (f->unimplemented && !value.is_null() && value != false) report_.unimplemented.push_back(JoinPath(path, name));
      Value(value, f->type, JoinPath(path, name), schema.name);
    }
    for (const auto& name : unknown) {
      report_.unknown_fields.push_back(JoinPath(path, name));
      obj.erase(name);
    }
  }

 private:
  DecodeReport& report_;
};

Json DefaultValue(const FieldSchema& f) {
  const std::string& d = f.default_value;
  switch (f.type.kind) {
    case ValueKind::kInt32:
    case ValueKind::kInt64: return std::stoll(d);
    case ValueKind::kBool: return d == "true";
    case ValueKind::kIntOrString: {
      bool numeric = !d.empty() && std::all_of(d.begin(), d.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
      return numeric ? Json(std::stoll(d)) : Json(d);
    }
    default: return d;
  }
}

void DefaultValueTree(Json& v, const TypeRef& t);

void DefaultObject(Json& obj, const TypeSchema& schema) {
  for (const auto& f : schema.fields) {
    auto it = obj.find(f.name);
    if (it == obj.end() || it->is_null()) {
      if (!f.default_value.empty()) obj[f.name] = DefaultValue(f);
      continue;
    }
    DefaultValueTree(*it, f.type);
  }
}

void DefaultValueTree(Json& v, const TypeRef& t) {
  if (t.kind == ValueKind::kObject && t.object && v.is_object()) {
    DefaultObject(v, *t.object);
  } else if (t.kind == ValueKind::kList && v.is_array()) {
    for (auto& item : v) DefaultValueTree(item, *t.elem);
  } else if (t.kind == ValueKind::kMap && v.is_object()) {
    for (auto& [k, item] : v.items()) DefaultValueTree(item, *t.elem);
  }
}

void CheckEnum(const Json& v, const FieldSchema& f, const Path& p, ErrorList& errs) {
  if (!v.is_string()) return;
  const std::string s = v.get<std::string>();
  if (std::find(f.enum_values.begin(), f.enum_values.end(), s) == f.enum_values.end()) {
    errs.push_back(validation::NotSupported(p, v, f.enum_values));
  }
}

void ValidateValue(const Json& v, const TypeRef& t, const Path& p, ErrorList& errs);

void ValidateObject(const Json& obj, const TypeSchema& schema, const Path& path, ErrorList& errs) {
  for (const auto& f : schema.fields) {
    auto it = obj.find(f.name);
    bool missing = it == obj.end() || it->is_null() ||
                   (it->is_string() && it->get<std::string>().empty()) || (it->is_array() && it->empty());
    Path p = path.Child(f.name);
    if (missing) {
      if (f.required && !f.status) errs.push_back(validation::Required(p));
      continue;
    }
    if (!f.enum_values.empty()) {
      if (it->is_array()) {
        for (size_t i = 0; i < it->size(); ++i) CheckEnum((*it)[i], f, p.Index(i), errs);
      } else {
        CheckEnum(*it, f, p, errs);
      }
    }
    if (!f.status) ValidateValue(*it, f.type, p, errs);
  }
}

void ValidateValue(const Json& v, const TypeRef& t, const Path& p, ErrorList& errs) {
  if (t.kind == ValueKind::kObject && t.object && v.is_object()) {
    ValidateObject(v, *t.object, p, errs);
  } else if (t.kind == ValueKind::kList && v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) ValidateValue(v[i], *t.elem, p.Index(i), errs);
  } else if (t.kind == ValueKind::kMap && v.is_object()) {
    for (auto& [k, item] : v.items()) ValidateValue(item, *t.elem, p.Key(k), errs);
  }
}

}  // namespace

DecodeReport DecodeCheck(Json& obj, const TypeSchema& schema) {
  DecodeReport report;
  Checker(report).Object(obj, schema, "");
  return report;
}

void ApplySchemaDefaults(Json& obj, const TypeSchema& schema) { DefaultObject(obj, schema); }

void ValidateSchema(const Json& obj, const TypeSchema& schema, const Path& path, ErrorList& errs) {
  ValidateObject(obj, schema, path, errs);
}

void ValidateImmutable(const Json& obj, const Json& old, const TypeSchema& schema, const Path& path,
                       ErrorList& errs) {
  for (const auto& f : schema.fields) {
    const Json* nv = obj.contains(f.name) ? &obj[f.name] : nullptr;
    const Json* ov = old.contains(f.name) ? &old[f.name] : nullptr;
    Path p = path.Child(f.name);
    if (f.immutable) {
      bool same = (nv == nullptr || nv->is_null()) ? (ov == nullptr || ov->is_null()) : (ov != nullptr && *nv == *ov);
      if (!same) errs.push_back(validation::InvalidValue(p, nv ? *nv : Json(nullptr), "field is immutable"));
      continue;
    }
    if (f.type.kind == ValueKind::kObject && f.type.object && nv && ov && nv->is_object() && ov->is_object()) {
      ValidateImmutable(*nv, *ov, *f.type.object, p, errs);
    }
  }
}

// ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$ with the suffixes upstream accepts.
bool IsQuantity(const std::string& s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits_start = i;
  bool dot = false, digit = false;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
    if (s[i] == '.') {
      if (dot) return false;
      dot = true;
    } else {
      digit = true;
    }
    ++i;
  }
  if (i == digits_start || !digit) return false;
  std::string suffix = s.substr(i);
  static const char* kSuffixes[] = {"", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  for (const char* k : kSuffixes) {
    if (suffix == k) return true;
  }
  // Decimal exponent: e3, E-2.
  if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    size_t j = 1;
    if (suffix[j] == '+' || suffix[j] == '-') ++j;
    if (j >= suffix.size()) return false;
    for (; j < suffix.size(); ++j) {
      if (!std::isdigit(static_cast<unsigned char>(suffix[j]))) return false;
    }
    return true;
  }
  return false;
}

}  // namespace kubes::api
