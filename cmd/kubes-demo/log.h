// LogLine — one line to stdout, so `kubectl logs` shows what the demo did.
//
// Each line starts with the UTC time ("2025-11-28T00:56:41.123Z ") and is flushed at
// once: stdout is a pipe in a container, and a line stuck in a buffer when the process
// exits (/exit, SIGKILL) would be lost.
//
// Thread-safety: lines from different threads never interleave.
#pragma once

#include <string_view>

namespace kubes::demo {

void LogLine(std::string_view message);

}  // namespace kubes::demo
