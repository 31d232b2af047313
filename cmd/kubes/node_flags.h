// What `kubes server` and `kubes agent` share: the node's names, its eviction flags and
// the signal handling.
#pragma once

#include <csignal>
#include <string>
#include <vector>

#include "kubelet/kubelet.h"

namespace kubes::cmd {

// "a,b" → {"a", "b"}
std::vector<std::string> SplitComma(const std::string& s);

// A short, stable id of this instance, from its data dir: it names the bridge, the
// cgroup parent and the /run directory, so several clusters can share a machine.
std::string InstanceID(const std::string& data_dir);

// The node's memory flags, upstream's syntax:
//   --eviction-hard memory.available<100Mi   (or a percentage; "" turns eviction off)
//   --system-reserved memory=1Gi             (memory only)
// Sets them in node when flag is one of them and returns true; *error is set when the
// value is wrong.
bool ApplyMemoryFlag(const std::string& flag, const std::string& value, kubelet::KubeletOptions& node,
                     std::string* error);

// The host name, lower-cased (the default node name, as the kubelet's).
std::string HostName();

// Blocks SIGINT and SIGTERM in this thread and every thread started after it; the
// caller then takes them with WaitForStopSignal.
void BlockStopSignals();
int WaitForStopSignal();

}  // namespace kubes::cmd
