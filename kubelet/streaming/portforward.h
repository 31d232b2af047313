// Port forward: `kubectl port-forward` over SPDY/3.1, either tunnelled in WebSocket
// binary messages (subprotocol `SPDY/3.1+portforward.k8s.io`, kubectl 1.30+'s
// default) or on the connection itself after a plain SPDY upgrade (POST with
// `Upgrade: SPDY/3.1` and `X-Stream-Protocol-Version: portforward.k8s.io`, the
// fallback).
//
// Upstream counterparts: k8s.io/kubelet's pkg/cri/streaming/portforward
// (httpstream.go: the stream pairing and the error text), the SPDY upgrade of
// k8s.io/apimachinery/pkg/util/httpstream/spdy, and k8s.io/apiserver's
// pkg/util/proxy/streamtunnel.go (the WebSocket tunnel); the client is
// k8s.io/client-go/tools/portforward.
//
// Per local connection the client opens two streams with the same `requestid`
// header: an `error` stream (which it half-closes at once) and a `data` stream, both
// with the `port` header. When both are there the session dials the port in the pod
// and copies bytes both ways; a failed dial is reported as text on the error stream
// ("error forwarding port 80 to pod <pod>, uid <uid>: …"), which makes kubectl stop.
// Half-closes travel as FIN flags and shutdown(SHUT_WR). Everything runs in one poll
// loop on the connection's thread; SPDY flow control is not enforced, as
// spdystream (the Go peer) neither sends nor honours WINDOW_UPDATE.
//
// Thread-safety: one session per connection, on the connection's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "apiserver/request.h"
#include "kubelet/streaming/bytestream.h"
#include "util/status.h"

namespace kubes::kubelet::streaming {

inline constexpr char kPortForwardProtocolV1[] = "portforward.k8s.io";
inline constexpr char kSpdyTunnelPrefix[] = "SPDY/3.1+";  // WebSocket subprotocol = prefix + SPDY protocol

struct PortForwarder {
  // Named in error messages: "error forwarding port 80 to pod <pod>, uid <uid>: …".
  std::string pod;
  std::string uid;
  // Connects to `port` inside the pod and returns the connected socket, which the
  // session owns from then on. Runs on the session's thread: it must be quick (a
  // loopback connect in the pod's network namespace).
  std::function<Result<int>(uint16_t port)> dial;
  // How long the second stream of a pair may take to arrive.
  std::chrono::milliseconds stream_creation_timeout = std::chrono::seconds(30);
};

// True for a plain SPDY upgrade: `Connection: Upgrade` and `Upgrade: SPDY/3.1`.
bool IsSpdyUpgradeRequest(const apiserver::Request& req);

// The port-forward endpoint in one call: accepts the WebSocket tunnel or the plain
// SPDY upgrade and returns the 101 Response whose upgrade serves the session, or a
// refusal (400 for a malformed request, 403 when no protocol matches).
apiserver::Response UpgradePortForward(const apiserver::Request& req, PortForwarder forwarder);

// Serves port-forward streams on an established byte stream until the client sends
// GOAWAY or the stream ends; every pod connection is closed on return.
void ServePortForward(ByteStream& stream, const PortForwarder& forwarder);

}  // namespace kubes::kubelet::streaming
