// What `kubes server` and `kubes agent` share: the node's names and the signal handling.
#pragma once

#include <csignal>
#include <string>
#include <vector>

namespace kubes::cmd {

// "a,b" → {"a", "b"}
std::vector<std::string> SplitComma(const std::string& s);

// A short, stable id of this instance, from its data dir: it names the bridge, the
// cgroup parent and the /run directory, so several clusters can share a machine.
std::string InstanceID(const std::string& data_dir);

// The host name, lower-cased (the default node name, as the kubelet's).
std::string HostName();

// Blocks SIGINT and SIGTERM in this thread and every thread started after it; the
// caller then takes them with WaitForStopSignal.
void BlockStopSignals();
int WaitForStopSignal();

}  // namespace kubes::cmd
