#include "apimachinery/resource/quantity.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace kubes::resource {
namespace {

using i128 = __int128;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
// Significant digits kept exactly; further digits only tell whether to round up.
constexpr int kMaxDigits = 36;

// value = ±mantissa · 10^exp10 · 2^bin (plus a little more when sticky).
struct Parsed {
  bool negative = false;
  i128 mantissa = 0;
  bool sticky = false;  // a non-zero digit was dropped
  int exp10 = 0;
  int bin = 0;
};

bool ParseSuffix(std::string_view suffix, Parsed& p) {
  if (suffix.empty()) return true;
  static constexpr std::pair<std::string_view, int> kBinary[] = {
      {"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  static constexpr std::pair<std::string_view, int> kDecimal[] = {
      {"n", -9}, {"u", -6}, {"m", -3}, {"k", 3}, {"M", 6}, {"G", 9}, {"T", 12}, {"P", 15}, {"E", 18}};
  for (const auto& [s, b] : kBinary) {
    if (suffix == s) return p.bin = b, true;
  }
  for (const auto& [s, e] : kDecimal) {
    if (suffix == s) return p.exp10 += e, true;
  }
  // A decimal exponent: e3, E-2, e+6.
  if (suffix[0] != 'e' && suffix[0] != 'E') return false;
  size_t i = 1;
  bool negative = false;
  if (i < suffix.size() && (suffix[i] == '+' || suffix[i] == '-')) negative = suffix[i++] == '-';
  if (i == suffix.size()) return false;
  int exp = 0;
  for (; i < suffix.size(); ++i) {
    if (suffix[i] < '0' || suffix[i] > '9') return false;
    exp = std::min(exp * 10 + (suffix[i] - '0'), 100000);  // far beyond any int64 either way
  }
  p.exp10 += negative ? -exp : exp;
  return true;
}

std::optional<Parsed> Parse(std::string_view s) {
  Parsed p;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) p.negative = s[i++] == '-';
  int digits = 0, kept = 0;
  bool dot = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.') {
      if (dot) return std::nullopt;
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    ++digits;
    int d = c - '0';
    if (dot) --p.exp10;
    if (p.mantissa == 0 && d == 0) continue;  // a leading zero
    if (kept < kMaxDigits) {
      p.mantissa = p.mantissa * 10 + d;
      ++kept;
    } else {
      ++p.exp10;  // the digit's place is kept, its value only rounds
      if (d != 0) p.sticky = true;
    }
  }
  if (digits == 0 || !ParseSuffix(s.substr(i), p)) return std::nullopt;
  return p;
}

// |value| · 10^scale rounded up (or down, for a negative value: toward +infinity).
int64_t Scaled(const Parsed& p, int scale) {
  if (p.mantissa == 0) return 0;
  const i128 limit = kMax;
  const int64_t saturated = p.negative ? kMin : kMax;
  int e = p.exp10 + scale;
  i128 v = p.mantissa;
  if (e >= 0) {
    // An integer: exact, unless it does not fit.
    if (v > limit) return saturated;
    for (int b = 0; b < p.bin; ++b) {
      if ((v <<= 1) > limit) return saturated;
    }
    for (int k = 0; k < e; ++k) {
      if ((v *= 10) > limit) return saturated;
    }
    return p.negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  }
  for (int b = 0; b < p.bin; ++b) {
    if (v > (std::numeric_limits<i128>::max() >> 1)) {
      // Over 20 significant digits with a binary suffix: close enough in floating point.
      long double x = std::ldexp(static_cast<long double>(p.mantissa), p.bin) * std::pow(10.0L, e);
      x = p.negative ? -std::floor(x) : std::ceil(x);
      return x >= static_cast<long double>(kMax) ? kMax : x <= static_cast<long double>(kMin) ? kMin : static_cast<int64_t>(x);
    }
    v <<= 1;
  }
  int k = -e;
  i128 q = 0;
  bool inexact = true;
  if (k <= 38) {  // 10^38 still fits; v < 2^127 < 10^39, so for larger k the quotient is 0
    i128 den = 1;
    for (int j = 0; j < k; ++j) den *= 10;
    q = v / den;
    inexact = v % den != 0 || p.sticky;
  }
  if (!p.negative && inexact) ++q;
  if (q > limit) return saturated;
  return p.negative ? -static_cast<int64_t>(q) : static_cast<int64_t>(q);
}

int64_t FromJson(const nlohmann::json& q, int scale) {
  std::optional<Parsed> p;
  if (q.is_string()) {
    p = Parse(q.get_ref<const std::string&>());
  } else if (q.is_number_integer() || q.is_number_unsigned()) {
    p = Parse(q.dump());
  } else if (q.is_number_float()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", q.get<double>());
    p = Parse(buf);
  }
  return p ? Scaled(*p, scale) : 0;
}

}  // namespace

std::optional<int64_t> QuantityValue(std::string_view s) {
  auto p = Parse(s);
  if (!p) return std::nullopt;
  return Scaled(*p, 0);
}

std::optional<int64_t> QuantityMilliValue(std::string_view s) {
  auto p = Parse(s);
  if (!p) return std::nullopt;
  return Scaled(*p, 3);
}

int64_t QuantityValue(const nlohmann::json& q) { return FromJson(q, 0); }
int64_t QuantityMilliValue(const nlohmann::json& q) { return FromJson(q, 3); }

}  // namespace kubes::resource
