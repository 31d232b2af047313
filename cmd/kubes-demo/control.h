// Control — what /healthz, /readyz and /startupz answer, and how that changes.
//
// Each of the three probe endpoints has a behaviour: ok (200 at once), fail (503), or
// slow:D (200 after waiting D, long enough to make a probe with timeoutSeconds: 1 time
// out). A behaviour can be scheduled to change later: "fail now, ok in 10 s" is how
// READY_AFTER=10s starts, "ok now, fail in 30 s" is FAIL_HEALTHZ_AFTER=30s (the
// Kubernetes docs' liveness exercise), and `/control/<probe>?state=S&after=D` schedules
// the same at run time. Setting a state without `after` replaces any scheduled change.
//
//   ┌───────── now ─────────┐   at the scheduled time   ┌──── then ────┐
//   │ ok | fail | slow:D    │ ─────────────────────────▶│ ok|fail|slow │
//   └───────────────────────┘                           └──────────────┘
//
// The clock is injected so tests run without sleeping. Mirrors nothing upstream; it plays
// the part of agnhost's `liveness` and `netexec --delay-shutdown` in the Kubernetes docs.
//
// Thread-safety: every method takes one mutex; connection threads share one Control.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "duration.h"

namespace kubes::demo {

enum class Probe { kHealthz, kReadyz, kStartupz };
inline constexpr std::array<Probe, 3> kProbes = {Probe::kHealthz, Probe::kReadyz, Probe::kStartupz};

// "healthz", "readyz", "startupz".
std::string_view ProbeName(Probe probe);
std::optional<Probe> ParseProbe(std::string_view name);

// What one probe endpoint does when it is asked.
struct Behaviour {
  enum class Kind { kOk, kFail, kSlow };
  Kind kind = Kind::kOk;
  Duration delay{0};  // kSlow only

  bool operator==(const Behaviour&) const = default;
};

// "ok", "fail", "slow:2s" (see duration.h for the duration forms); nullopt otherwise.
std::optional<Behaviour> ParseBehaviour(std::string_view text);
// The inverse of ParseBehaviour: "ok", "fail", "slow:2s".
std::string FormatBehaviour(const Behaviour& behaviour);

class Control {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Clock = std::function<TimePoint()>;

  // now() is read whenever a behaviour is set or asked for; every probe starts ok.
  explicit Control(Clock now);

  // The probe behaves like `behaviour` from now on; a scheduled change is dropped.
  void Set(Probe probe, Behaviour behaviour);
  // The probe keeps its current behaviour for `after`, then behaves like `then`.
  void SetAfter(Probe probe, Duration after, Behaviour then);

  // What the probe does at this moment.
  Behaviour Current(Probe probe);
  // "ok", "fail (ok in 7.2s)", "slow:2s (fail in 1s)".
  std::string Describe(Probe probe);

  // One probe's state as Describe() sees it, for the JSON form of /control.
  struct State {
    Behaviour current;
    std::optional<Behaviour> next;  // a scheduled change, if any
    Duration next_in{0};            // time left until it
  };
  State Get(Probe probe);

 private:
  struct Slot {
    Behaviour current;
    std::optional<Behaviour> next;
    TimePoint next_at;
  };
  // Applies a scheduled change whose time has come. REQUIRES: mu_ held.
  Slot& AdvanceLocked(Probe probe, TimePoint now);

  Clock now_;
  std::mutex mu_;
  std::array<Slot, kProbes.size()> slots_;
};

}  // namespace kubes::demo
