// Reading container logs in the CRI format kubes-monitor writes — one line per chunk:
// "<RFC 3339 time> <stdout|stderr> <F|P> <text>", P marking a partial line that the
// next chunk continues (upstream: pkg/kubelet/kuberuntime/logs).
//
// Thread-safe: pure functions over a file.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "apiserver/request.h"
#include "util/time.h"

namespace kubes::kubelet {

struct LogOptions {
  bool follow = false;
  bool timestamps = false;             // prefix each line with its time (RFC 3339, nanoseconds, Z)
  int64_t tail_lines = -1;             // -1 = all
  int64_t limit_bytes = 0;             // 0 = no limit
  std::optional<TimePoint> since;      // lines older than this are skipped
};

// The log text of a file as `kubectl logs` shows it. If offset is given, it receives
// the file offset just past the last complete line read.
std::string ReadLog(const std::string& path, const LogOptions& o, size_t* offset);

// Writes the log, then what is appended to it, until running() is false and nothing
// more is left, the client goes away, or limit_bytes is reached.
void FollowLog(const std::string& path, const LogOptions& o, apiserver::ResponseStream& out,
               const std::function<bool()>& running);

}  // namespace kubes::kubelet
