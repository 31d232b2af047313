// Time helpers: the clock kubes reads, and the formats the API uses.
//
// Every component takes a Clock so tests can use a fake one (STYLE.md). Times in
// API objects are RFC 3339 in UTC, to the second (metav1.Time) or the microsecond
// (metav1.MicroTime). HumanDuration renders ages as kubectl shows them ("5m3s").
// Thread-safe: RealClock has no state.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace kubes {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class RealClock : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  static const Clock& Get();
};

// "2024-01-02T03:04:05Z"
std::string FormatRFC3339(TimePoint t);
// "2024-01-02T03:04:05.123456Z"
std::string FormatRFC3339Micro(TimePoint t);
// Parses RFC 3339 with optional fraction and a Z or ±hh:mm offset.
std::optional<TimePoint> ParseRFC3339(const std::string& s);
// kubectl's age format (k8s.io/apimachinery/pkg/util/duration.HumanDuration).
std::string HumanDuration(std::chrono::seconds d);
// Go's time.Duration.String() for a number of nanoseconds: "1h2m3s", "1.5s", "500ms".
std::string GoDurationString(int64_t nanos);

}  // namespace kubes
