#include "apiserver/crd/gojson.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "apimachinery/gostrings.h"

namespace kubes::crd {

GoKind KindOf(const Json& v) {
  switch (v.type()) {
    case Json::value_t::boolean: return GoKind::kBool;
    case Json::value_t::string: return GoKind::kString;
    case Json::value_t::number_integer: return GoKind::kInt64;
    case Json::value_t::number_unsigned:
      // Past int64 Go's decoder falls back to float64.
      return v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX) ? GoKind::kFloat64 : GoKind::kInt64;
    case Json::value_t::number_float: return GoKind::kFloat64;
    case Json::value_t::array: return GoKind::kSlice;
    case Json::value_t::object: return GoKind::kMap;
    default: return GoKind::kNull;
  }
}

double AsFloat64(const Json& v) { return v.is_number() ? v.get<double>() : 0; }

int64_t AsInt64(const Json& v) {
  if (v.is_number_integer() && KindOf(v) == GoKind::kInt64) return v.get<int64_t>();
  const double d = AsFloat64(v);
  if (std::isnan(d)) return INT64_MIN;
  if (d >= 9.2233720368547758e18) return INT64_MIN;  // Go's conversion overflows to MinInt64 on amd64
  if (d < -9.2233720368547758e18) return INT64_MIN;
  return static_cast<int64_t>(d);
}

namespace {

// Go's JSON decoder refuses documents nested deeper than this; nothing upstream
// compares or prints a deeper value, and kubes stops there instead of recursing on.
constexpr int kMaxDepth = 10000;

bool Equal(const Json& a, const Json& b, int depth) {
  if (depth > kMaxDepth) return false;
  const GoKind ka = KindOf(a), kb = KindOf(b);
  if (ka != kb) return false;
  switch (ka) {
    case GoKind::kNull: return true;
    case GoKind::kBool: return a.get<bool>() == b.get<bool>();
    case GoKind::kString: return a.get_ref<const std::string&>() == b.get_ref<const std::string&>();
    case GoKind::kInt64: return a.get<int64_t>() == b.get<int64_t>();
    case GoKind::kFloat64: return a.get<double>() == b.get<double>();
    case GoKind::kSlice:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!Equal(a[i], b[i], depth + 1)) return false;
      }
      return true;
    case GoKind::kMap:
      if (a.size() != b.size()) return false;
      for (auto it = a.begin(); it != a.end(); ++it) {
        auto other = b.find(it.key());
        if (other == b.end() || !Equal(*it, *other, depth + 1)) return false;
      }
      return true;
  }
  return false;
}

}  // namespace

bool DeepEqual(const Json& a, const Json& b) { return Equal(a, b, 0); }

std::string FormatGoFloat(double f) {
  char sci[64], fixed[400];
  auto r = std::to_chars(sci, sci + sizeof(sci), f, std::chars_format::scientific);
  std::string s(sci, r.ptr);
  const auto e = s.find('e');
  const int exp = e == std::string::npos ? 0 : std::atoi(s.c_str() + e + 1);
  // strconv's 'g' with shortest precision switches to the exponent form outside [1e-4, 1e6).
  if (exp < -4 || exp >= 6) return s;
  auto rf = std::to_chars(fixed, fixed + sizeof(fixed), f, std::chars_format::fixed);
  return std::string(fixed, rf.ptr);
}

std::string MarshalGoFloat(double f) {
  char buf[400];
  const double a = std::fabs(f);
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    auto r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
    std::string s(buf, r.ptr);
    // Go writes e-07 as e-7.
    if (s.size() >= 4 && s[s.size() - 4] == 'e' && s[s.size() - 3] == '-' && s[s.size() - 2] == '0')
      s.erase(s.size() - 2, 1);
    return s;
  }
  auto r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

namespace {

std::string FormatNumber(const Json& v) {
  if (KindOf(v) == GoKind::kInt64) return std::to_string(v.get<int64_t>());
  return FormatGoFloat(v.get<double>());
}

}  // namespace

namespace {

std::string GoSyntax(const Json& v, int depth) {
  if (depth > kMaxDepth) return "...";
  switch (KindOf(v)) {
    case GoKind::kNull: return "interface {}(nil)";
    case GoKind::kBool: return v.get<bool>() ? "true" : "false";
    case GoKind::kString: return gostrings::Quote(v.get_ref<const std::string&>());
    case GoKind::kInt64:
    case GoKind::kFloat64: return FormatNumber(v);
    case GoKind::kSlice: {
      std::string out = "[]interface {}{";
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ", ";
        out += GoSyntax(v[i], depth + 1);
      }
      return out + "}";
    }
    case GoKind::kMap: {
      // fmt prints map keys sorted; nlohmann's object is already ordered by key.
      std::string out = "map[string]interface {}{";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        out += gostrings::Quote(it.key()) + ":" + GoSyntax(*it, depth + 1);
      }
      return out + "}";
    }
  }
  return "";
}

}  // namespace

std::string FormatGoSyntax(const Json& v) { return GoSyntax(v, 0); }

std::string FormatBadValue(const Json& v) {
  switch (KindOf(v)) {
    case GoKind::kNull: return "\"null\"";
    case GoKind::kBool: return v.get<bool>() ? "true" : "false";
    case GoKind::kString: return gostrings::Quote(v.get_ref<const std::string&>());
    case GoKind::kInt64:
    case GoKind::kFloat64: return FormatNumber(v);
    default: return FormatGoSyntax(v);
  }
}

validation::FieldError InvalidGo(const std::string& field, const Json& value, std::string detail) {
  validation::FieldError e{validation::ErrorType::kInvalid, field, Json(FormatBadValue(value)), std::move(detail)};
  e.raw_value = true;
  return e;
}

}  // namespace kubes::crd
