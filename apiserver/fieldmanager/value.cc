#include "apiserver/fieldmanager/value.h"

#include "apimachinery/gostrings.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace kubes::apiserver::fieldmanager {
namespace {

// The rank of a value's kind in structured-merge-diff's order.
int KindRank(const Json& v) {
  if (v.is_number()) return 0;
  if (v.is_string()) return 1;
  if (v.is_boolean()) return 2;
  if (v.is_array()) return 3;
  if (v.is_object()) return 4;
  return 5;  // null (and anything else nlohmann may hold)
}

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int CompareNumbers(const Json& a, const Json& b) {
  if (a.is_number_float() || b.is_number_float()) return Cmp(a.get<double>(), b.get<double>());
  if (a.is_number_unsigned() && b.is_number_unsigned()) return Cmp(a.get<uint64_t>(), b.get<uint64_t>());
  // An unsigned value above INT64_MAX is larger than any signed one.
  if (a.is_number_unsigned() && a.get<uint64_t>() > INT64_MAX) return 1;
  if (b.is_number_unsigned() && b.get<uint64_t>() > INT64_MAX) return -1;
  return Cmp(a.get<int64_t>(), b.get<int64_t>());
}

std::vector<std::pair<const std::string*, const Json*>> SortedEntries(const Json& object) {
  // nlohmann::json objects are already sorted by key; ordered_json would not be.
  std::vector<std::pair<const std::string*, const Json*>> out;
  for (auto it = object.begin(); it != object.end(); ++it) out.emplace_back(&it.key(), &it.value());
  std::sort(out.begin(), out.end(), [](auto& x, auto& y) { return *x.first < *y.first; });
  return out;
}

void AppendHex(std::string& out, uint32_t v, int digits) {
  static const char kHex[] = "0123456789abcdef";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += kHex[(v >> shift) & 0xF];
}

void AppendJSONString(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    auto [r, n] = DecodeUTF8(s, i);
    if (r < 0) {
      out += "\\ufffd";
    } else if (r == '"' || r == '\\') {
      out += '\\';
      out += static_cast<char>(r);
    } else if (r == '\n') {
      out += "\\n";
    } else if (r == '\r') {
      out += "\\r";
    } else if (r == '\t') {
      out += "\\t";
    } else if (r < 0x20 || r == '<' || r == '>' || r == '&' || r == 0x2028 || r == 0x2029) {
      out += "\\u";
      AppendHex(out, static_cast<uint32_t>(r), 4);
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  out += '"';
}

std::string ToChars(double d, std::chars_format format) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, format);
  return std::string(buf, res.ptr);
}

// Go's encoding/json float64: plain decimals except for very small or large values.
std::string GoJSONFloat(double d) {
  if (!std::isfinite(d)) return "null";  // unreachable from parsed JSON
  double abs = std::fabs(d);
  if (abs != 0 && (abs < 1e-6 || abs >= 1e21)) {
    std::string s = ToChars(d, std::chars_format::scientific);
    size_t n = s.size();  // "1e-07" -> "1e-7", as Go cleans it up
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
    return s;
  }
  return ToChars(d, std::chars_format::fixed);
}

// Go's %v for a float64: %g with the shortest digits, exponent form below 1e-4 or from 1e6.
std::string GoFloatV(double d) {
  if (!std::isfinite(d)) return std::isnan(d) ? "NaN" : (d > 0 ? "+Inf" : "-Inf");
  if (d == 0) return "0";
  std::string sci = ToChars(d, std::chars_format::scientific);
  int exp = std::atoi(sci.c_str() + sci.find('e') + 1);
  if (exp < -4 || exp >= 6) return sci;
  return ToChars(d, std::chars_format::fixed);
}

void AppendGoJSON(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (auto& [key, value] : SortedEntries(v)) {
        if (!first) out += ',';
        first = false;
        AppendJSONString(out, *key);
        out += ':';
        AppendGoJSON(out, *value);
      }
      out += '}';
      return;
    }
    case Json::value_t::array: {
      out += '[';
      for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) out += ',';
        AppendGoJSON(out, v[i]);
      }
      out += ']';
      return;
    }
    case Json::value_t::string: AppendJSONString(out, v.get_ref<const std::string&>()); return;
    case Json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return;
    case Json::value_t::number_integer: out += std::to_string(v.get<int64_t>()); return;
    case Json::value_t::number_unsigned: out += std::to_string(v.get<uint64_t>()); return;
    case Json::value_t::number_float: out += GoJSONFloat(v.get<double>()); return;
    default: out += "null"; return;
  }
}

}  // namespace

std::pair<int32_t, size_t> DecodeUTF8(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return {c, 1};
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (n == 0 || c > 0xF4 || i + n > s.size()) return {-1, 1};
  int32_t r = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return {-1, 1};
    r = (r << 6) | (cc & 0x3F);
  }
  static const int32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (r < kMin[n] || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return {-1, 1};
  return {r, n};
}

size_t NestingDepth(const Json& value) {
  size_t deepest = 0;
  std::vector<std::pair<const Json*, size_t>> stack = {{&value, 1}};
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    deepest = std::max(deepest, depth);
    for (const Json& child : *v) stack.emplace_back(&child, depth + 1);
  }
  return deepest;
}

int CompareValues(const Json& a, const Json& b) {
  int ra = KindRank(a), rb = KindRank(b);
  if (ra != rb) return Cmp(ra, rb);
  switch (ra) {
    case 0: return CompareNumbers(a, b);
    case 1: return Cmp(a.get_ref<const std::string&>(), b.get_ref<const std::string&>());
    case 2: return Cmp(a.get<bool>(), b.get<bool>());
    case 3: {
      for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
        if (int c = CompareValues(a[i], b[i]); c != 0) return c;
      }
      return Cmp(a.size(), b.size());
    }
    case 4: {
      auto ea = SortedEntries(a), eb = SortedEntries(b);
      for (size_t i = 0; i < ea.size() && i < eb.size(); ++i) {
        if (int c = ea[i].first->compare(*eb[i].first); c != 0) return c < 0 ? -1 : 1;
        if (int c = CompareValues(*ea[i].second, *eb[i].second); c != 0) return c;
      }
      return Cmp(ea.size(), eb.size());
    }
    default: return 0;
  }
}

std::string GoJSON(const Json& value) {
  std::string out;
  AppendGoJSON(out, value);
  return out;
}

// Go's strconv.Quote; one implementation for the project (apimachinery/gostrings.h).
std::string GoQuote(std::string_view s) { return gostrings::Quote(s); }

std::string ValueString(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string: return GoQuote(value.get_ref<const std::string&>());
    case Json::value_t::boolean: return value.get<bool>() ? "true" : "false";
    case Json::value_t::number_integer: return std::to_string(value.get<int64_t>());
    case Json::value_t::number_unsigned: return std::to_string(value.get<uint64_t>());
    case Json::value_t::number_float: return GoFloatV(value.get<double>());
    case Json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < value.size(); ++i) out += (i ? "," : "") + ValueString(value[i]);
      return out + "]";
    }
    case Json::value_t::object: {
      std::string out;
      for (auto& [key, v] : SortedEntries(value)) out += *key + "=" + ValueString(*v);
      return out;
    }
    default: return "null";
  }
}

}  // namespace kubes::apiserver::fieldmanager
