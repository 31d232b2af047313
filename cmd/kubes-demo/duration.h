// Durations as people write them in env vars and query strings: "10s", "500ms",
// "1m30s", "1.5s", or a bare number of seconds ("10").
//
// The units are Go's (time.ParseDuration) minus the ones nobody needs here: ms, s, m, h.
// Thread-safety: plain functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kubes::demo {

using Duration = std::chrono::milliseconds;

// The longest duration accepted (longer is an error, not a silent cap).
inline constexpr Duration kMaxDuration = std::chrono::hours(24);

// nullopt for anything else: empty, negative, an unknown unit, more than kMaxDuration.
// Precision is a millisecond; finer fractions are dropped.
std::optional<Duration> ParseDuration(std::string_view text);

// 250 → "250ms", 1500 → "1.5s", 90000 → "90s".
std::string FormatDuration(Duration d);

}  // namespace kubes::demo
