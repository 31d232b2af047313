#include "control.h"

namespace kubes::demo {

std::string_view ProbeName(Probe probe) {
  switch (probe) {
    case Probe::kHealthz: return "healthz";
    case Probe::kReadyz: return "readyz";
    case Probe::kStartupz: return "startupz";
  }
  return "unknown";
}

std::optional<Probe> ParseProbe(std::string_view name) {
  for (Probe p : kProbes) {
    if (ProbeName(p) == name) return p;
  }
  return std::nullopt;
}

std::optional<Behaviour> ParseBehaviour(std::string_view text) {
  if (text == "ok") return Behaviour{Behaviour::Kind::kOk, Duration(0)};
  if (text == "fail") return Behaviour{Behaviour::Kind::kFail, Duration(0)};
  constexpr std::string_view kSlow = "slow:";
  if (text.substr(0, kSlow.size()) == kSlow) {
    if (auto d = ParseDuration(text.substr(kSlow.size()))) return Behaviour{Behaviour::Kind::kSlow, *d};
  }
  return std::nullopt;
}

std::string FormatBehaviour(const Behaviour& behaviour) {
  switch (behaviour.kind) {
    case Behaviour::Kind::kOk: return "ok";
    case Behaviour::Kind::kFail: return "fail";
    case Behaviour::Kind::kSlow: return "slow:" + FormatDuration(behaviour.delay);
  }
  return "unknown";
}

Control::Control(Clock now) : now_(std::move(now)) {}

Control::Slot& Control::AdvanceLocked(Probe probe, TimePoint now) {
  Slot& slot = slots_[static_cast<size_t>(probe)];
  if (slot.next && now >= slot.next_at) {
    slot.current = *slot.next;
    slot.next.reset();
  }
  return slot;
}

void Control::Set(Probe probe, Behaviour behaviour) {
  std::lock_guard lock(mu_);
  Slot& slot = slots_[static_cast<size_t>(probe)];
  slot.current = behaviour;
  slot.next.reset();
}

void Control::SetAfter(Probe probe, Duration after, Behaviour then) {
  std::lock_guard lock(mu_);
  TimePoint now = now_();
  Slot& slot = AdvanceLocked(probe, now);
  slot.next = then;
  slot.next_at = now + after;
}

Behaviour Control::Current(Probe probe) {
  std::lock_guard lock(mu_);
  return AdvanceLocked(probe, now_()).current;
}

Control::State Control::Get(Probe probe) {
  std::lock_guard lock(mu_);
  TimePoint now = now_();
  const Slot& slot = AdvanceLocked(probe, now);
  State state{slot.current, slot.next, Duration(0)};
  if (slot.next) state.next_in = std::chrono::duration_cast<Duration>(slot.next_at - now);
  return state;
}

std::string Control::Describe(Probe probe) {
  State state = Get(probe);
  std::string out = FormatBehaviour(state.current);
  if (state.next) out += " (" + FormatBehaviour(*state.next) + " in " + FormatDuration(state.next_in) + ")";
  return out;
}

}  // namespace kubes::demo
