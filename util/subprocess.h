// Running another program and collecting what it prints (the OCI runtime, CNI
// plugins, iproute2). The child gets only the descriptors asked for; everything else
// is closed in it, so no socket or pipe of kubes leaks into a container's monitor.
//
// Thread-safe: each call is independent.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "util/status.h"

namespace kubes {

struct CommandResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

struct CommandOptions {
  std::string input;                        // written to the child's stdin, then closed
  std::map<std::string, std::string> env;   // added to (or replacing) the inherited environment
  bool clear_env = false;                   // start from an empty environment instead
  std::chrono::milliseconds timeout{60000};  // SIGKILL after this long
  std::vector<int> keep_fds;                // descriptors the child keeps (same numbers)
  std::string cwd;                          // working directory of the child ("" = ours)
};

// Runs argv[0] (looked up in PATH when it has no slash) and waits. Fails only when the
// program could not be started or timed out; a non-zero exit is in the result.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv, const CommandOptions& options = {});

// "runc exit 1: <stderr>" — a Status for a command that did not succeed.
Status CommandError(const std::vector<std::string>& argv, const CommandResult& r);

// Closes every descriptor above 2 except those listed (used in a forked child).
void CloseDescriptorsExcept(const std::vector<int>& keep);

}  // namespace kubes
