// ByteStream — the ordered byte pipe a SPDY session runs on, so the same port-forward
// code serves both forms kubectl uses:
//   * ConnectionByteStream: the upgraded connection itself, after a plain SPDY
//     upgrade (POST with `Upgrade: SPDY/3.1`).
//   * WebSocketByteStream: WebSocket binary messages with subprotocol
//     `SPDY/3.1+portforward.k8s.io`. Message boundaries mean nothing: the peer
//     (client-go's TunnelingConnection) may split one SPDY frame over many messages,
//     so the payloads are simply concatenated; each Write goes out as one message.
//
// Thread-safety: one thread, like the connection underneath.
#pragma once

#include <string>
#include <string_view>

#include "apiserver/request.h"
#include "kubelet/streaming/websocket.h"

namespace kubes::kubelet::streaming {

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Poll for reading, unless Buffered(): then Read does not block.
  virtual int PollFd() const = 0;
  virtual bool Buffered() = 0;
  // Reads once (blocking only if nothing is waiting) and appends what arrived to
  // *out, which may be nothing (a WebSocket ping). False once the stream has ended.
  virtual bool Read(std::string* out) = 0;
  // Writes everything; false once the stream has failed.
  virtual bool Write(std::string_view data) = 0;
  // Ends the session cleanly on the wire (a WebSocket close handshake); the
  // connection itself closes when the upgrade handler returns.
  virtual void Finish() = 0;
};

class ConnectionByteStream : public ByteStream {
 public:
  explicit ConnectionByteStream(apiserver::UpgradedConnection& conn) : conn_(conn) {}
  int PollFd() const override { return conn_.PollFd(); }
  bool Buffered() override { return conn_.Buffered(); }
  bool Read(std::string* out) override;
  bool Write(std::string_view data) override { return conn_.Write(data.data(), data.size()); }
  void Finish() override {}

 private:
  apiserver::UpgradedConnection& conn_;
};

class WebSocketByteStream : public ByteStream {
 public:
  explicit WebSocketByteStream(WebSocket& ws) : ws_(ws) {}
  int PollFd() const override { return ws_.PollFd(); }
  bool Buffered() override { return ws_.Buffered(); }
  bool Read(std::string* out) override;
  bool Write(std::string_view data) override { return ws_.Send(Opcode::kBinary, data); }
  void Finish() override;

 private:
  WebSocket& ws_;
};

}  // namespace kubes::kubelet::streaming
