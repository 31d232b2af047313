// ValidateAgainstSchema: kube-openapi's SchemaValidator over nlohmann::json.
//
// Mirrors k8s.io/kube-openapi pkg/validation/validate (schema.go and the type, string,
// format, number, slice, common, object and schema-props validators) and the message
// formats of pkg/validation/errors. A Result keeps its errors de-duplicated by message
// and a MatchCount, which anyOf/oneOf use to pick the "best" failing branch to report,
// exactly as upstream does. Map iteration, random in Go, is in key order here.
#include <algorithm>
#include <cmath>

#include "apimachinery/gostrings.h"
#include "apiserver/crd/formats.h"
#include "apiserver/crd/gojson.h"
#include "apiserver/crd/pattern.h"
#include "apiserver/crd/schema_node.h"
#include "apiserver/crd/validation.h"

namespace kubes::crd {
namespace {

// One error of kube-openapi: an errors.Validation (with a code) or a plain
// errors.New (kComposite), which upstream reports against the root path.
struct OpenAPIError {
  enum Code { kComposite, kInvalidType, kRequired, kTooLong, kEnum, kMaxItems, kTooManyProperties, kOther };

  OpenAPIError(Code c, std::string n, std::string m, Json v = nullptr)
      : code(c), name(std::move(n)), message(std::move(m)), value(std::move(v)) {}

  Code code;
  std::string name;  // Validation.Name: the value's path in the body
  std::string message;
  Json value;          // Validation.Value; null when unset
  int64_t valid = -1;  // Validation.Valid for the length and count limits
  Json values;         // Validation.Values for enums
};

struct Result {
  std::vector<OpenAPIError> errors;
  int match_count = 0;

  bool ok() const { return errors.empty(); }
  void Add(OpenAPIError e) {
    for (const auto& have : errors) {
      if (have.message == e.message) return;
    }
    errors.push_back(std::move(e));
  }
  void Merge(const Result& other) {
    for (const auto& e : other.errors) Add(e);
    match_count += other.match_count;
  }
};

Result Fail(OpenAPIError e) {
  Result r;
  r.errors.push_back(std::move(e));
  return r;
}

const std::string kIn = " in body ";

OpenAPIError InvalidType(const std::string& path, const std::string& type, const std::string& value) {
  return {OpenAPIError::kInvalidType, path, path + kIn + "must be of type " + type + ": " + gostrings::Quote(value),
          value};
}

OpenAPIError Composite(std::string message) { return {OpenAPIError::kComposite, "", std::move(message)}; }

OpenAPIError Other(const std::string& path, std::string message, Json value) {
  return {OpenAPIError::kOther, path, std::move(message), std::move(value)};
}

// swag.IsFloat64AJSONInteger, including its tolerance for near-integers above zero.
bool IsJSONInteger(double f) {
  if (std::isnan(f) || std::isinf(f) || f < -9007199254740992.0 || f > 9007199254740992.0) return false;
  if (f == std::trunc(f)) return true;
  if (f < 0) return false;  // Go's uint64(f) of a negative float is far away from f
  const double g = std::trunc(f);
  if (g == 0) return false;
  return std::fabs(f - g) / (f + g) < 1e-9;
}

// Go's int64(f) on amd64: out-of-range values become MinInt64.
int64_t GoInt64(double f) {
  if (std::isnan(f) || f >= 9.2233720368547758e18 || f < -9.2233720368547758e18) return INT64_MIN;
  return static_cast<int64_t>(f);
}

std::string FormatNumber(const Json& v) {
  return KindOf(v) == GoKind::kInt64 ? std::to_string(v.get<int64_t>()) : FormatGoFloat(AsFloat64(v));
}

class Validator {
 public:
  explicit Validator(SchemaFlavor flavor) : flavor_(flavor) {}

  // SchemaValidator.Validate.
  Result Validate(const Json* s, const std::string& path, const Json& data) const {
    Result r;
    if (!s || !s->is_object()) return r;
    const std::vector<std::string> types = Types(*s);
    const std::string format = Format(*s);
    if (data.is_null()) {
      r.Merge(ValidateType(*s, types, format, path, data));
      r.Merge(ValidateEnum(*s, path, data));
      return r;
    }
    const GoKind kind = KindOf(data);
    auto run = [&](const Result& sub) {
      r.Merge(sub);
      r.match_count++;
    };
    if (!types.empty() || !format.empty()) run(ValidateType(*s, types, format, path, data));
    run(ValidateSchemaProps(*s, path, data));
    if (kind == GoKind::kString) run(ValidateString(*s, path, data.get_ref<const std::string&>()));
    if (kind == GoKind::kString && IsCheckedFormat(format)) {
      Result f;
      if (!FormatValidates(format, data.get_ref<const std::string&>()))
        f = Fail(InvalidType(path, format, data.get<std::string>()));
      run(f);
    }
    if (kind == GoKind::kInt64 || kind == GoKind::kFloat64) run(ValidateNumber(*s, path, data));
    if (kind == GoKind::kSlice) run(ValidateSlice(*s, path, data));
    run(ValidateEnum(*s, path, data));
    if (kind == GoKind::kMap) run(ValidateObject(*s, path, data));
    r.match_count++;
    return r;
  }

 private:
  std::vector<std::string> Types(const Json& s) const {
    if (flavor_ == SchemaFlavor::kCustomResource && IsIntOrString(s)) return {"integer", "string"};
    const std::string t = GetString(s, "type");
    if (t.empty()) return {};
    return {t};
  }

  std::string Format(const Json& s) const {
    const std::string f = GetString(s, "format");
    // StripUnsupportedFormatsPostProcess
    if (flavor_ == SchemaFlavor::kCustomResource && !IsCheckedFormat(f)) return "";
    return f;
  }

  static bool Contains(const std::vector<std::string>& types, const std::string& t) {
    return std::find(types.begin(), types.end(), t) != types.end();
  }

  // typeValidator.Validate.
  Result ValidateType(const Json& s, const std::vector<std::string>& types, const std::string& format,
                      const std::string& path, const Json& data) const {
    std::string joined;
    for (const auto& t : types) joined += (joined.empty() ? "" : ",") + t;
    if (data.is_null()) {
      if (!types.empty() && !Contains(types, "null") && !IsNullable(s)) return Fail(InvalidType(path, joined, "null"));
      return Result{{}, 1};
    }
    const GoKind kind = KindOf(data);
    std::string sch_type, data_format;
    switch (kind) {
      case GoKind::kBool: sch_type = "boolean"; break;
      case GoKind::kString: sch_type = "string"; break;
      case GoKind::kInt64: sch_type = "integer", data_format = "int64"; break;
      case GoKind::kFloat64: sch_type = "number", data_format = "float64"; break;
      case GoKind::kSlice: sch_type = "array"; break;
      default: sch_type = "object"; break;
    }
    const bool is_float_int = sch_type == "number" && IsJSONInteger(AsFloat64(data)) && Contains(types, "integer");
    const bool is_int_float = sch_type == "integer" && Contains(types, "number");
    const bool textual = kind == GoKind::kString || kind == GoKind::kSlice;
    if (!textual && !format.empty() &&
        !(Contains(types, sch_type) || data_format == format || is_float_int || is_int_float)) {
      return Fail(InvalidType(path, format, data_format));
    }
    if (!(Contains(types, "number") || Contains(types, "integer")) && !format.empty() && textual) return Result{{}, 1};
    if (!(Contains(types, sch_type) || is_float_int || is_int_float)) return Fail(InvalidType(path, joined, sch_type));
    return Result{{}, 1};
  }

  // schemaPropsValidator.Validate: anyOf, oneOf, allOf, not.
  Result ValidateSchemaProps(const Json& s, const std::string& path, const Json& data) const {
    Result main;
    const std::string quoted = gostrings::Quote(path);
    auto list = [&](const char* key) {
      const Json* v = Get(s, key);
      return v && v->is_array() ? *v : Json::array();
    };
    if (const Json any = list("anyOf"); !any.empty()) {
      const Result* best = nullptr;
      Result first_success;
      std::vector<Result> results;
      results.reserve(any.size());
      bool succeeded = false;
      for (const Json& sub : any) {
        results.push_back(Validate(&sub, path, data));
        if (results.back().ok()) {
          succeeded = true, best = nullptr, first_success = results.back();
          break;
        }
        if (!best || results.back().match_count > best->match_count) best = &results.back();
      }
      if (!succeeded) main.Add(Composite(quoted + " must validate at least one schema (anyOf)"));
      main.Merge(best ? *best : first_success);
    }
    if (const Json one = list("oneOf"); !one.empty()) {
      std::vector<Result> results;
      results.reserve(one.size());
      const Result* best = nullptr;
      const Result* first_success = nullptr;
      int validated = 0;
      for (const Json& sub : one) {
        results.push_back(Validate(&sub, path, data));
        if (results.back().ok()) {
          ++validated, best = nullptr;
          if (!first_success) first_success = &results.back();
          continue;
        }
        if (validated == 0 && (!best || results.back().match_count > best->match_count)) best = &results.back();
      }
      if (validated != 1) {
        const std::string more =
            validated == 0 ? "Found none valid" : "Found " + std::to_string(validated) + " valid alternatives";
        main.Add(Composite(quoted + " must validate one and only one schema (oneOf). " + more));
        if (best) main.Merge(*best);
      } else if (first_success) {
        main.Merge(*first_success);
      }
    }
    if (const Json all = list("allOf"); !all.empty()) {
      size_t validated = 0;
      for (const Json& sub : all) {
        Result r = Validate(&sub, path, data);
        if (r.ok()) ++validated;
        main.Merge(r);
      }
      if (validated != all.size()) {
        main.Add(
            Composite(quoted + " must validate all the schemas (allOf)" + (validated == 0 ? ". None validated" : "")));
      }
    }
    if (const Json* no = GetSchema(s, "not"); no && Validate(no, path, data).ok()) {
      main.Add(Composite(quoted + " must not validate the schema (not)"));
    }
    main.match_count++;
    return main;
  }

  // stringValidator.Validate: the first failing check only.
  Result ValidateString(const Json& s, const std::string& path, const std::string& data) const {
    int64_t runes = 0;
    for (std::string_view rest = data; !rest.empty(); ++runes) rest.remove_prefix(gostrings::DecodeRune(rest).size);
    if (auto max = GetInt(s, "maxLength"); max && runes > *max) {
      OpenAPIError e{OpenAPIError::kTooLong, path,
                     path + kIn + "should be at most " + std::to_string(*max) + " chars long", data};
      e.valid = *max;
      return Fail(e);
    }
    if (auto min = GetInt(s, "minLength"); min && runes < *min) {
      return Fail(Other(path, path + kIn + "should be at least " + std::to_string(*min) + " chars long", data));
    }
    if (const std::string pattern = GetString(s, "pattern"); !pattern.empty()) {
      std::string error;
      auto re = CompilePattern(pattern, &error);
      if (!re)
        return Fail(
            Other(path, path + kIn + "should match '" + pattern + ", but pattern is invalid: " + error + "'", data));
      if (!PatternMatches(*re, data)) return Fail(Other(path, path + kIn + "should match '" + pattern + "'", data));
    }
    return {};
  }

  // numberValidator.Validate via the *NativeType helpers: an int64 value is compared
  // with the bound truncated to int64, a float64 value with the float bound.
  Result ValidateNumber(const Json& s, const std::string& path, const Json& data) const {
    Result res, multiple, minimum, maximum;
    const bool is_int = KindOf(data) == GoKind::kInt64;
    if (auto factor = GetNumber(s, "multipleOf")) {
      if (is_int) {
        const int64_t f = GoInt64(*factor), v = data.get<int64_t>();
        if (f <= 0) {
          multiple.Add(
              Other(path, "factor MultipleOf declared for " + path + " must be positive: " + std::to_string(f), f));
        } else if ((v / f) * f != v) {
          multiple.Add(Other(path, path + kIn + "should be a multiple of " + std::to_string(f), data));
        }
      } else {
        const double f = *factor, v = AsFloat64(data);
        if (f <= 0) {
          multiple.Add(
              Other(path, "factor MultipleOf declared for " + path + " must be positive: " + FormatGoFloat(f), f));
        } else if (!IsJSONInteger(f < 1 ? 1 / f * v : v / f)) {
          multiple.Add(Other(path, path + kIn + "should be a multiple of " + FormatGoFloat(f), data));
        }
      }
    }
    auto bound = [&](const char* key, const char* exclusive_key, bool upper, Result& out) {
      auto b = GetNumber(s, key);
      if (!b) return;
      const bool exclusive = GetBool(s, exclusive_key);
      bool fails;
      std::string shown;
      if (is_int) {
        const int64_t v = data.get<int64_t>(), limit = GoInt64(*b);
        fails = upper ? (exclusive ? v >= limit : v > limit) : (exclusive ? v <= limit : v < limit);
        shown = std::to_string(limit);
      } else {
        const double v = AsFloat64(data);
        fails = upper ? (exclusive ? v >= *b : v > *b) : (exclusive ? v <= *b : v < *b);
        shown = FormatGoFloat(*b);
      }
      if (!fails) return;
      const std::string relation = upper ? (exclusive ? "less than " : "less than or equal to ")
                                         : (exclusive ? "greater than " : "greater than or equal to ");
      out.Add(Other(path, path + kIn + "should be " + relation + shown, data));
    };
    bound("minimum", "exclusiveMinimum", false, minimum);
    bound("maximum", "exclusiveMaximum", true, maximum);
    res.Merge(multiple);
    res.Merge(minimum);
    res.Merge(maximum);
    res.match_count++;
    return res;
  }

  // schemaSliceValidator.Validate.
  Result ValidateSlice(const Json& s, const std::string& path, const Json& data) const {
    Result r;
    if (const Json* items = GetSchema(s, "items")) {
      for (size_t i = 0; i < data.size(); ++i) {
        r.Merge(Validate(items, path + "[" + std::to_string(i) + "]", data[i]));
      }
    }
    const auto size = static_cast<int64_t>(data.size());
    if (auto min = GetInt(s, "minItems"); min && size < *min) {
      r.Add(Other(path, path + kIn + "should have at least " + std::to_string(*min) + " items", size));
    }
    if (auto max = GetInt(s, "maxItems"); max && size > *max) {
      OpenAPIError e{OpenAPIError::kMaxItems, path,
                     path + kIn + "should have at most " + std::to_string(*max) + " items", size};
      e.valid = *max;
      r.Add(e);
    }
    if (GetBool(s, "uniqueItems")) {
      for (size_t i = 0; i < data.size(); ++i) {
        bool dup = false;
        for (size_t j = 0; j < i && !dup; ++j) dup = DeepEqual(data[i], data[j]);
        if (dup) {
          r.Add(Other(path, path + kIn + "shouldn't contain duplicates", nullptr));
          break;
        }
      }
    }
    r.match_count++;
    return r;
  }

  // Whether data, converted to the Go type of enum value e, equals e (basicCommonValidator).
  static bool EnumMatches(const Json& data, const Json& e) {
    const GoKind dk = KindOf(data), ek = KindOf(e);
    if (ek == GoKind::kNull || dk == GoKind::kNull) return false;
    const bool numeric = dk == GoKind::kInt64 || dk == GoKind::kFloat64;
    if (ek == GoKind::kInt64 && numeric) return AsInt64(data) == e.get<int64_t>();
    if (ek == GoKind::kFloat64 && numeric)
      return (dk == GoKind::kInt64 ? static_cast<double>(data.get<int64_t>()) : AsFloat64(data)) == AsFloat64(e);
    if (ek == GoKind::kString && dk == GoKind::kInt64) {
      // Go converts an integer to the string holding that code point.
      const int64_t r = data.get<int64_t>();
      std::string conv;
      gostrings::AppendRune(conv, (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) ? gostrings::kRuneError
                                                                                          : static_cast<char32_t>(r));
      return conv == e.get_ref<const std::string&>();
    }
    return dk == ek && DeepEqual(data, e);
  }

  Result ValidateEnum(const Json& s, const std::string& path, const Json& data) const {
    const Json* values = Get(s, "enum");
    if (!values || !values->is_array() || values->empty()) return {};
    for (const Json& e : *values) {
      if (EnumMatches(data, e)) return {};
    }
    OpenAPIError err{OpenAPIError::kEnum, path, path + kIn + "should be one of ...", data};
    err.values = *values;
    return Fail(err);
  }

  // objectValidator.Validate.
  Result ValidateObject(const Json& s, const std::string& path, const Json& data) const {
    Result r;
    const auto keys = static_cast<int64_t>(data.size());
    if (auto min = GetInt(s, "minProperties"); min && keys < *min) {
      r.Add(Other(path, path + kIn + "should have at least " + std::to_string(*min) + " properties", keys));
    }
    if (auto max = GetInt(s, "maxProperties"); max && keys > *max) {
      OpenAPIError e{OpenAPIError::kTooManyProperties, path,
                     path + kIn + "should have at most " + std::to_string(*max) + " properties", keys};
      e.valid = *max;
      r.Add(e);
    }
    const Json* additional = Get(s, "additionalProperties");
    if (additional && additional->is_boolean() && !additional->get<bool>()) {
      for (auto it = data.begin(); it != data.end(); ++it) {
        if (!Property(s, it.key()))
          r.Add(Other(path, path + "." + it.key() + kIn + "is a forbidden property", it.key()));
      }
    } else if (const Json* schema = AdditionalPropertiesSchema(s)) {
      for (auto it = data.begin(); it != data.end(); ++it) {
        if (!Property(s, it.key())) r.Merge(Validate(schema, path + "." + it.key(), *it));
      }
    }
    if (const Json* props = GetSchema(s, "properties")) {
      for (auto it = props->begin(); it != props->end(); ++it) {
        auto value = data.find(it.key());
        if (value != data.end()) r.Merge(Validate(&*it, path.empty() ? it.key() : path + "." + it.key(), *value));
      }
    }
    if (const Json* required = Get(s, "required"); required && required->is_array()) {
      for (const Json& k : *required) {
        if (k.is_string() && !data.contains(k.get<std::string>())) {
          const std::string name = path + "." + k.get<std::string>();
          r.Add({OpenAPIError::kRequired, name, name + kIn + "is required"});
        }
      }
    }
    return r;
  }

  SchemaFlavor flavor_;
};

// field.NotSupported's list: strings as they are, anything else JSON-encoded.
std::vector<std::string> EnumStrings(const Json& values) {
  std::vector<std::string> out;
  for (const Json& v : values) {
    if (v.is_string()) {
      out.push_back(v.get<std::string>());
    } else if (KindOf(v) == GoKind::kFloat64) {
      out.push_back(MarshalGoFloat(AsFloat64(v)));
    } else {
      out.push_back(v.dump());
    }
  }
  return out;
}

// kubeOpenAPIResultToFieldErrors.
void ToFieldErrors(const Result& result, const validation::Path& base, validation::ErrorList& errs) {
  // A nil *field.Path prints as "<nil>"; an empty kubes Path stands for it.
  const std::string root = base.String().empty() ? "<nil>" : base.String();
  for (const OpenAPIError& e : result.errors) {
    if (e.code == OpenAPIError::kComposite) {
      errs.push_back(InvalidGo(root, "", e.message));
      continue;
    }
    std::string name = e.name;
    if (!name.empty() && name[0] == '.') name.erase(0, 1);
    const std::string field = e.name.empty() || e.name == "." ? root : base.Child(name).String();
    const Json value = e.value.is_null() ? Json("") : e.value;
    switch (e.code) {
      case OpenAPIError::kRequired: errs.push_back({validation::ErrorType::kRequired, field, nullptr, ""}); break;
      case OpenAPIError::kEnum:
        errs.push_back(validation::NotSupported(validation::Path(field), e.value.is_null() ? Json("null") : e.value,
                                                EnumStrings(e.values)));
        break;
      case OpenAPIError::kTooLong:
        errs.push_back({validation::ErrorType::kTooLong, field, nullptr,
                        "may not be more than " + std::to_string(e.valid) + " bytes"});
        break;
      case OpenAPIError::kMaxItems:
      case OpenAPIError::kTooManyProperties:
        // field.TooMany prints the actual count before the detail.
        errs.push_back({validation::ErrorType::kTooMany, field, nullptr,
                        FormatNumber(e.value) + ": must have at most " + std::to_string(e.valid) + " items"});
        break;
      default: errs.push_back(InvalidGo(field, value, e.message)); break;
    }
  }
}

}  // namespace

void ValidateAgainstSchema(const Json& value, const Json& schema, const validation::Path& path,
                           validation::ErrorList& errs, SchemaFlavor flavor) {
  const Validator v(flavor);
  ToFieldErrors(v.Validate(&schema, "", value), path, errs);
}

}  // namespace kubes::crd
