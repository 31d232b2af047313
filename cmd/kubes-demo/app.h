// App — kubes-demo's endpoints: turns one parsed Request into one Response.
//
//   /                      which pod answered (text, or JSON with ?format=json)
//   /healthz /readyz /startupz   200 "ok", or what Control says (fail, slow)
//   /control[/<probe>]     show or change the probes' behaviour (?state=…&after=…)
//   /cpu?ms=N              burn N ms of CPU time
//   /mem?mb=N              hold N MiB of touched memory (0 frees it)
//   /sleep?ms=N            answer after N ms
//   /headers               echo the request line and headers
//   /exit?code=N           answer, then the process exits with code N
//
// The server (server.h) owns sockets, threads and logging; App knows nothing of them,
// so tests call Handle() directly. See README.md for the full API.
//
// Thread-safety: Handle() is called from many connection threads at once; the request
// counter is atomic and the held memory is guarded by a mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "config.h"
#include "control.h"
#include "http.h"

namespace kubes::demo {

inline constexpr const char* kVersion = "1.0";

class App {
 public:
  using Sleeper = std::function<void(Duration)>;

  // control must outlive the App. sleep is how /sleep and slow probes wait (tests pass a
  // recorder instead of really sleeping).
  App(PodInfo pod, Control* control, Sleeper sleep);

  Response Handle(const Request& request);

  // After SIGTERM: /readyz answers 503 "shutting down" whatever Control says, so
  // endpoints drop the pod while it finishes what it is doing.
  void StartShutdown() { shutting_down_ = true; }
  bool ShuttingDown() const { return shutting_down_; }

  // MiB held by /mem.
  size_t HeldMiB();

 private:
  Response Root(const Request& request);
  Response ProbeEndpoint(Probe probe);
  Response ControlEndpoint(const Request& request);
  Response Cpu(const Request& request);
  Response Mem(const Request& request);
  Response Sleep(const Request& request);
  Response Headers(const Request& request);
  Response Exit(const Request& request);

  const PodInfo pod_;
  Control* const control_;
  const Sleeper sleep_;
  std::atomic<uint64_t> root_requests_{0};
  std::atomic<bool> shutting_down_{false};

  std::mutex mem_mu_;
  std::unique_ptr<char[]> held_;  // guarded by mem_mu_
  size_t held_mib_ = 0;           // guarded by mem_mu_
};

}  // namespace kubes::demo
