// Running a command in a container for exec probes and exec hooks (upstream:
// pkg/probe/exec/exec.go and the CRI's ExecSync as kuberuntime's RunInContainer uses
// it).
//
// The kubelet turns the command into the OCI runtime's `exec` command line
// (runtime::Runtime::ExecCommand); RunWithTimeout runs that program with stdin from
// /dev/null, keeps at most max_output bytes of stdout and of stderr (the rest is read
// and dropped, so the command never blocks on a full pipe), and kills it when the
// timeout passes or *cancel is set. The output is stdout followed by stderr, as the
// CRI returns them. A killed `exec` ends the runtime's client; the command itself may
// run on in the container until it finishes (the runtime does not kill it).
//
// The probe's verdict (ExecProbeOutput): exit code 0 is success, any other failure,
// with the command's output as the message; a timeout fails with upstream's
// `command "sh -c sleep 10" timed out`.
//
// Thread-safety: independent calls from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "kubelet/prober/probe.h"
#include "util/status.h"

namespace kubes::kubelet::prober {

inline constexpr size_t kMaxExecOutput = 10 * 1024;

struct ExecResult {
  int exit_code = 0;       // 128+N when killed by signal N
  std::string output;      // stdout, then stderr
  bool timed_out = false;  // killed at the timeout (or cancelled)
};

// Runs argv[0] (looked up in PATH without a slash). Fails only when it cannot start.
Result<ExecResult> RunWithTimeout(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                                  size_t max_output = kMaxExecOutput, const std::atomic<bool>* cancel = nullptr);

// The exec probe's verdict on what running `command` in the container gave.
ProbeOutput ExecProbeOutput(const std::vector<std::string>& command, const Result<ExecResult>& ran);

// "sh -c exit 1" — a command as upstream messages show it.
std::string JoinCommand(const std::vector<std::string>& command);

}  // namespace kubes::kubelet::prober
