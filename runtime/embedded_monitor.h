// The kubes-monitor program carried inside kubes (embedded_monitor.S says how it gets
// there). Runtime::Open writes it out; see runtime/monitor/README.md for what it does.
//
// Thread-safe: constant data.
#pragma once

#include <string_view>

extern "C" const char kubes_monitor_start[] __attribute__((visibility("hidden")));
extern "C" const char kubes_monitor_end[] __attribute__((visibility("hidden")));

namespace kubes::runtime {

// The bytes of the kubes-monitor executable.
inline std::string_view EmbeddedMonitor() {
  return std::string_view(kubes_monitor_start, static_cast<size_t>(kubes_monitor_end - kubes_monitor_start));
}

}  // namespace kubes::runtime
