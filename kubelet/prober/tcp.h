// The tcpSocket probe: healthy when a TCP connection opens before the timeout
// (upstream: pkg/probe/tcp/tcp.go). The connection is closed at once; nothing is sent.
// A failure says Go's dial error: "dial tcp 10.42.0.7:6379: connect: connection
// refused", "dial tcp 10.42.0.7:6379: i/o timeout".
//
// Thread-safety: a pure function.
#pragma once

#include <chrono>
#include <string>

#include "kubelet/prober/probe.h"

namespace kubes::kubelet::prober {

ProbeOutput DoTCPProbe(const std::string& host, int port, std::chrono::milliseconds timeout);

}  // namespace kubes::kubelet::prober
