#include "kubelet/prober/tcp.h"

#include "kubelet/prober/net.h"

namespace kubes::kubelet::prober {

ProbeOutput DoTCPProbe(const std::string& host, int port, std::chrono::milliseconds timeout) {
  auto fd = DialTCP(host, port, std::chrono::steady_clock::now() + timeout);
  // Every error is a failure, timeouts included.
  if (!fd.ok()) return ProbeOutput::Failure(fd.status().message());
  return ProbeOutput::Success();
}

}  // namespace kubes::kubelet::prober
