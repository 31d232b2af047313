// WebSocket (RFC 6455), server side, for the streaming endpoints: the opening
// handshake on an apiserver::Request, and a message reader/writer over the
// UpgradedConnection the server hands over after the 101.
//
// Upstream counterparts: k8s.io/apimachinery/pkg/util/httpstream/wsstream (the
// handshake and subprotocol choice, on golang.org/x/net/websocket) and the gorilla
// WebSocket library client-go speaks from the other end.
//
// What the peers need from us: kubectl pings every 5 s and gives up on the
// connection if no pong comes back within a minute, so pings are answered inside
// Receive; client frames are always masked; a close is answered with a close. No
// extension (permessage-deflate) is ever negotiated, so RSV bits must be zero.
//
// Thread-safety: a WebSocket is used by one thread, like its UpgradedConnection.
// The free functions are pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/request.h"
#include "util/status.h"

namespace kubes::kubelet::streaming {

// ---- The opening handshake -------------------------------------------------------

// True when the request asks to switch to WebSocket: `Upgrade: websocket` and a
// `Connection` header naming "upgrade" (wsstream.IsWebSocketRequest).
bool IsWebSocketRequest(const apiserver::Request& req);

// The subprotocols a client offers in Sec-WebSocket-Protocol, in its order
// (comma-separated, blanks trimmed).
std::vector<std::string> RequestedSubprotocols(const apiserver::Request& req);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + RFC 6455 GUID)).
std::string WebSocketAcceptKey(std::string_view key);

// An accepted handshake: the subprotocol both sides speak ("" when the client asked
// for none) and the headers of the 101 answer.
struct WebSocketHandshake {
  std::string subprotocol;
  std::vector<std::pair<std::string, std::string>> headers;

  // The 101 response that hands the connection to serve.
  apiserver::Response Accept(std::function<void(apiserver::UpgradedConnection&)> serve) const;
};

// Checks a WebSocket opening request and picks the first subprotocol the client
// offers that is in `supported` (a client offering none gets "" if `supported`
// holds ""). Errors: BadRequest for a malformed handshake (not GET, missing or bad
// Sec-WebSocket-Key, version other than 13); Forbidden when no subprotocol matches,
// as x/net/websocket answers.
Result<WebSocketHandshake> NegotiateWebSocket(const apiserver::Request& req,
                                              const std::vector<std::string>& supported);

// The answer to a refused upgrade: the status code of s and a metav1.Status body,
// which client-go decodes and shows (and which makes kubectl fall back to SPDY).
apiserver::Response RefuseUpgrade(const Status& s);

// ---- Frames ----------------------------------------------------------------------

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes used here (RFC 6455 §7.4.1).
inline constexpr uint16_t kCloseNormal = 1000;
inline constexpr uint16_t kCloseProtocolError = 1002;
inline constexpr uint16_t kCloseTooBig = 1009;

struct Frame {
  bool fin = true;
  Opcode opcode = Opcode::kBinary;
  std::string payload;  // unmasked
};

// Decodes one frame from the front of `in`. Returns the number of bytes it used, or
// 0 when `in` does not yet hold a whole frame. `from_client` demands the mask bit
// (RFC 6455 §5.1); the server's own frames are unmasked. Errors (BadRequest) for
// reserved bits or opcodes, bad control frames, or a payload over max_payload.
Result<size_t> DecodeFrame(std::string_view in, bool from_client, size_t max_payload, Frame* out);

// Encodes a frame; with a mask key the payload is masked (what a client sends).
std::string EncodeFrame(Opcode opcode, std::string_view payload, bool fin = true,
                        std::optional<uint32_t> mask = std::nullopt);

// ---- A connection ----------------------------------------------------------------

// One data message (fragments already joined).
struct Message {
  Opcode type = Opcode::kBinary;  // kText or kBinary
  std::string data;
};

class WebSocket {
 public:
  // Messages bigger than this end the connection with close 1009.
  static constexpr size_t kDefaultMaxMessage = 16 << 20;

  explicit WebSocket(apiserver::UpgradedConnection& conn, size_t max_message = kDefaultMaxMessage)
      : conn_(conn), max_message_(max_message) {}

  // Poll this descriptor for reading, unless Buffered() is true: then Receive
  // returns without blocking.
  int PollFd() const { return conn_.PollFd(); }
  bool Buffered() { return conn_.Buffered(); }

  // Reads from the connection once (blocking only if nothing is waiting) and appends
  // each complete data message to *out. Pings are answered and a close is echoed
  // here; after either a close or the end of the connection, closed() is true and
  // Receive returns OK with nothing more. A protocol violation sends close 1002 (or
  // 1009) and returns BadRequest; closed() is then true as well.
  Status Receive(std::vector<Message>* out);

  // Sends one message as a single frame; `prefix` goes in front of `data` (the
  // channel byte of the k8s channel protocols). False once the connection failed or
  // a close was sent.
  bool Send(Opcode type, std::string_view data, std::string_view prefix = {});

  // Sends a close frame (once). The session then calls AwaitClose.
  bool SendClose(uint16_t code, std::string_view reason = {});

  // After SendClose: reads and drops messages until the peer's close arrives, the
  // connection ends, or `timeout` passes, so the peer reads our last frames before
  // the TCP connection goes away (closing with unread input would reset it).
  void AwaitClose(std::chrono::milliseconds timeout);

  // The peer sent a close, the connection ended or failed, or the peer broke a
  // protocol rule.
  bool closed() const { return closed_; }
  // The code of the peer's close frame (1005 when it carried none, 1006 when the
  // connection ended without one).
  uint16_t peer_close_code() const { return peer_close_code_; }

 private:
  Status HandleFrame(Frame frame, std::vector<Message>* out);
  Status Fail(uint16_t code, std::string message);
  bool WriteFrame(Opcode opcode, std::string_view prefix, std::string_view payload);

  apiserver::UpgradedConnection& conn_;
  size_t max_message_;
  std::string in_;             // bytes read but not yet decoded
  std::optional<Message> partial_;  // a fragmented message being joined
  bool closed_ = false;
  bool close_sent_ = false;
  bool write_failed_ = false;
  uint16_t peer_close_code_ = 1006;
};

}  // namespace kubes::kubelet::streaming
