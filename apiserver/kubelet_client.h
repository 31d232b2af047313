// ProxyToKubelet — how the apiserver hands pods/log, exec, attach and portforward to
// a kubelet that runs in another process (`kubes agent`), over HTTPS.
//
// Upstream the apiserver builds a URL on the node's kubelet (pkg/kubelet/client:
// the kubelet's address and port from the Node object; certificate verification off
// unless --kubelet-certificate-authority is given) and forwards the request through
// k8s.io/apimachinery's UpgradeAwareHandler (pkg/util/proxy/upgradeaware.go). kubes
// does the same with its own pieces:
//
//   - the request goes out as it came (method, path, query, body, the client's
//     headers including Upgrade, Sec-WebSocket-* and X-Stream-Protocol-Version) with
//     `Authorization: Bearer <token>` in place of the client's credentials;
//   - a plain answer comes back as it is (code, content type, body);
//   - a streamed answer (chunked, as `logs -f`) comes back as Response.stream, which
//     pumps the body as it arrives until the kubelet ends it or the client goes away;
//   - a 101 comes back as Response.upgrade with the kubelet's handshake headers; it
//     pipes bytes both ways between the client's connection and the kubelet's, in
//     one thread with poll() on both, until either side closes;
//   - an upgrade the kubelet refuses comes back as the kubelet's answer;
//   - a kubelet that cannot be reached is a 503 whose message reads like upstream's
//     ("error dialing backend: dial tcp 10.0.0.5:10250: connect: connection refused").
//
// The kubelet connection comes from client/http (Conn); Boost.Beast stays in
// server.cc. Thread-safety: ProxyToKubelet may be called from many request threads at
// once; each call dials its own connection, owned by the Response it returns.
#pragma once

#include <string>

#include "apiserver/request.h"

namespace kubes::apiserver {

// Forwards req to https://host:port (path and query as they are in req).
Response ProxyToKubelet(const std::string& host, int port, const std::string& bearer_token, Request& req);

}  // namespace kubes::apiserver
