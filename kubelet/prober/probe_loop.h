// ProbeLoop — plain-HTTP and TCP probes without a thread each: non-blocking sockets
// on one epoll, driven by the prober's scheduler thread between its scheduling rounds
// (upstream gives every probe a goroutine; Go's runtime multiplexes their sockets on
// epoll underneath, which is what this does by hand).
//
// A probe here is a small state machine: connecting (writable: connected) → sending the
// request → reading the response into a ResponseParser → done; or, for TCP, done once
// connected. Each has its deadline (timeoutSeconds) in a min-heap; one that passes it
// ends with Go's timeout text. The results and error texts are the same as
// DoHTTPGet's and DoTCPProbe's, which the other threads use (HTTPS, redirects).
//
// Why: with a thread pool each probe costs a hand-over from the scheduler and a
// wake-up per blocking wait; on this loop 500 probes a second are a few epoll_wait
// calls each — about half the CPU (see bench/probes/README.md).
//
// Thread-safety: Start* and RunOnce on the loop's own thread only; Wake from any
// thread. Callbacks run on the loop's thread, inside RunOnce.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "kubelet/prober/http.h"
#include "kubelet/prober/net.h"

namespace kubes::kubelet::prober {

class ProbeLoop {
 public:
  using HTTPDone = std::function<void(Result<HTTPResponse>)>;
  using TCPDone = std::function<void(ProbeOutput)>;

  ProbeLoop();
  ~ProbeLoop();
  ProbeLoop(const ProbeLoop&) = delete;
  ProbeLoop& operator=(const ProbeLoop&) = delete;

  // One GET of a plain-HTTP request (not following redirects): what DoHTTPGet's first
  // request would give, error texts included.
  void StartHTTP(const HTTPRequest& request, std::chrono::milliseconds timeout, HTTPDone done);
  // A TCP connect: DoTCPProbe's verdict.
  void StartTCP(const std::string& host, int port, std::chrono::milliseconds timeout, TCPDone done);

  // Handles socket events and deadlines until `until`, a Wake, or some progress.
  void RunOnce(Deadline until);
  // Makes a RunOnce in progress return (from any thread).
  void Wake();

  size_t active() const { return ops_.size(); }

 private:
  struct Op;
  void Add(std::unique_ptr<Op> op, bool connected);
  void OnReady(Op& op, uint32_t events);
  void Finish(uint64_t id, Result<HTTPResponse> result);
  void Expire(Deadline now);

  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // an eventfd
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Op>> ops_;
  std::priority_queue<std::pair<Deadline, uint64_t>, std::vector<std::pair<Deadline, uint64_t>>,
                      std::greater<std::pair<Deadline, uint64_t>>>
      deadlines_;
};

}  // namespace kubes::kubelet::prober
