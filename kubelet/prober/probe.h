// What one run of a probe handler reports (upstream: pkg/probe/probe.go).
//
// A handler (exec, httpGet, tcpSocket, grpc) runs one check and says Success,
// Warning (a success the user should hear about: an HTTP redirect that was not
// followed), Failure or Unknown, with the text that goes into the `Unhealthy` event
// ("HTTP probe failed with statuscode: 500"). When the check could not even be
// attempted (a port name the container does not declare), `error` is set and the
// prober throws the result away instead of counting it.
//
// Thread-safety: plain values.
#pragma once

#include <string>

#include "util/status.h"

namespace kubes::kubelet::prober {

enum class ProbeResult { kSuccess, kWarning, kFailure, kUnknown };

// "success", "warning", "failure", "unknown" (upstream's probe.Result strings, which
// appear in "… probe errored and resulted in unknown state: …").
inline const char* ProbeResultString(ProbeResult r) {
  switch (r) {
    case ProbeResult::kSuccess:
      return "success";
    case ProbeResult::kWarning:
      return "warning";
    case ProbeResult::kFailure:
      return "failure";
    case ProbeResult::kUnknown:
      break;
  }
  return "unknown";
}

struct ProbeOutput {
  ProbeResult result = ProbeResult::kUnknown;
  std::string output;  // what the check said; goes into the event message
  Status error;        // the check could not run: the result does not count

  static ProbeOutput Success(std::string out = "") { return {ProbeResult::kSuccess, std::move(out), {}}; }
  static ProbeOutput Warning(std::string out) { return {ProbeResult::kWarning, std::move(out), {}}; }
  static ProbeOutput Failure(std::string out) { return {ProbeResult::kFailure, std::move(out), {}}; }
  static ProbeOutput Error(Status s) { return {ProbeResult::kUnknown, "", std::move(s)}; }
};

}  // namespace kubes::kubelet::prober
