#include "duration.h"

#include <cstdint>

namespace kubes::demo {
namespace {

// Milliseconds in one unit, or 0 for an unknown unit.
int64_t UnitMillis(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return 1000;
  if (unit == "m") return 60 * 1000;
  if (unit == "h") return 60 * 60 * 1000;
  return 0;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const int64_t max = kMaxDuration.count();
  // A bare number is seconds.
  bool bare = true;
  for (char c : text) bare = bare && IsDigit(c);
  if (bare) {
    if (text.size() > 6) return std::nullopt;
    int64_t seconds = std::stoll(std::string(text));
    if (seconds * 1000 > max) return std::nullopt;
    return Duration(seconds * 1000);
  }
  // One or more <number>[.<fraction>]<unit>.
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    int64_t whole = 0;
    size_t start = i;
    for (; i < text.size() && IsDigit(text[i]); i++) {
      whole = whole * 10 + (text[i] - '0');
      if (whole > max) return std::nullopt;
    }
    bool has_whole = i > start;
    // Up to three fraction digits count (milliseconds of a second); the rest are read and dropped.
    int64_t fraction = 0, scale = 1;
    bool has_fraction = false;
    if (i < text.size() && text[i] == '.') {
      for (i++; i < text.size() && IsDigit(text[i]); i++) {
        has_fraction = true;
        if (scale < 1000) {
          fraction = fraction * 10 + (text[i] - '0');
          scale *= 10;
        }
      }
    }
    if (!has_whole && !has_fraction) return std::nullopt;
    size_t unit_start = i;
    while (i < text.size() && !IsDigit(text[i]) && text[i] != '.') i++;
    int64_t unit = UnitMillis(text.substr(unit_start, i - unit_start));
    if (unit == 0) return std::nullopt;
    total += whole * unit + fraction * unit / scale;
    if (total > max) return std::nullopt;
  }
  return Duration(total);
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string out = std::to_string(ms / 1000);
  if (int64_t rest = ms % 1000) {
    std::string frac = std::to_string(1000 + rest).substr(1);  // three digits, leading zeros kept
    while (frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  return out + "s";
}

}  // namespace kubes::demo
