#include "kubelet/streaming/websocket.h"

#include <openssl/evp.h>
#include <poll.h>

#include <algorithm>
#include <cctype>

#include "kubelet/streaming/status_json.h"
#include "pki/base64.h"
#include "util/strings.h"

namespace kubes::kubelet::streaming {
namespace {

constexpr char kWebSocketGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// Go's %v of a []string: "[a b c]".
std::string GoList(const std::vector<std::string>& v) { return "[" + Join(v, " ") + "]"; }

uint64_t BigEndian(std::string_view b) {
  uint64_t v = 0;
  for (char c : b) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

bool IsControl(Opcode op) { return (static_cast<uint8_t>(op) & 0x8) != 0; }

}  // namespace

// ---- Handshake -------------------------------------------------------------------

bool IsWebSocketRequest(const apiserver::Request& req) {
  if (LowerASCII(TrimSpace(req.Header("upgrade"))) != "websocket") return false;
  return LowerASCII(req.Header("connection")).find("upgrade") != std::string::npos;
}

std::vector<std::string> RequestedSubprotocols(const apiserver::Request& req) {
  std::vector<std::string> out;
  const std::string all = req.Header("sec-websocket-protocol");
  std::string_view rest = all;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view one = TrimSpace(rest.substr(0, comma));
    if (!one.empty()) out.emplace_back(one);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

std::string WebSocketAcceptKey(std::string_view key) {
  std::string input(key);
  input += kWebSocketGuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha1(), nullptr);
  return pki::Base64Encode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

apiserver::Response WebSocketHandshake::Accept(std::function<void(apiserver::UpgradedConnection&)> serve) const {
  apiserver::Response r;
  r.code = 101;
  r.content_type.clear();
  r.headers = headers;
  r.upgrade = std::move(serve);
  return r;
}

Result<WebSocketHandshake> NegotiateWebSocket(const apiserver::Request& req,
                                              const std::vector<std::string>& supported) {
  if (req.method != "GET") {
    return BadRequest("unable to upgrade: a WebSocket handshake must be a GET request, not " + req.method);
  }
  if (!IsWebSocketRequest(req)) {
    return BadRequest("unable to upgrade: missing the headers Connection: Upgrade and Upgrade: websocket");
  }
  std::string version(TrimSpace(req.Header("sec-websocket-version")));
  if (version != "13") {
    return BadRequest("unable to upgrade: unsupported WebSocket version \"" + version + "\" (13 is required)");
  }
  std::string key(TrimSpace(req.Header("sec-websocket-key")));
  auto decoded = pki::Base64Decode(key);
  if (!decoded || decoded->size() != 16) {
    return BadRequest("unable to upgrade: Sec-WebSocket-Key must be 16 bytes in base64");
  }

  std::vector<std::string> offered = RequestedSubprotocols(req);
  std::optional<std::string> chosen;
  if (offered.empty()) {
    if (std::find(supported.begin(), supported.end(), "") != supported.end()) chosen = "";
  } else {
    for (const std::string& p : offered) {
      if (std::find(supported.begin(), supported.end(), p) != supported.end()) {
        chosen = p;
        break;
      }
    }
  }
  if (!chosen) {
    return Forbidden("unable to upgrade: requested protocol(s) are not supported: " + GoList(offered) +
                     "; supports " + GoList(supported));
  }

  WebSocketHandshake h;
  h.subprotocol = *chosen;
  h.headers = {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", WebSocketAcceptKey(key)}};
  if (!h.subprotocol.empty()) h.headers.emplace_back("Sec-WebSocket-Protocol", h.subprotocol);
  return h;
}

apiserver::Response RefuseUpgrade(const Status& s) {
  apiserver::Response r;
  r.code = s.HttpCode();
  r.content_type = "application/json";
  r.body = StatusJson(s, /*with_type_meta=*/true).dump();
  return r;
}

// ---- Frames ----------------------------------------------------------------------

Result<size_t> DecodeFrame(std::string_view in, bool from_client, size_t max_payload, Frame* out) {
  if (in.size() < 2) return size_t{0};
  const auto b0 = static_cast<uint8_t>(in[0]);
  const auto b1 = static_cast<uint8_t>(in[1]);
  if (b0 & 0x70) return BadRequest("websocket: reserved bits set without an extension");
  const uint8_t op = b0 & 0x0F;
  if (op != 0x0 && op != 0x1 && op != 0x2 && op != 0x8 && op != 0x9 && op != 0xA) {
    return BadRequest("websocket: unknown opcode " + std::to_string(op));
  }
  const Opcode opcode = static_cast<Opcode>(op);
  const bool fin = (b0 & 0x80) != 0;
  const bool masked = (b1 & 0x80) != 0;
  if (masked != from_client) {
    return BadRequest(from_client ? "websocket: client frames must be masked" : "websocket: server frames must not be masked");
  }

  size_t pos = 2;
  uint64_t length = b1 & 0x7F;
  if (length == 126) {
    if (in.size() < pos + 2) return size_t{0};
    length = BigEndian(in.substr(pos, 2));
    pos += 2;
  } else if (length == 127) {
    if (in.size() < pos + 8) return size_t{0};
    length = BigEndian(in.substr(pos, 8));
    if (length >> 63) return BadRequest("websocket: payload length has its top bit set");
    pos += 8;
  }
  if (IsControl(opcode) && (!fin || length > 125)) {
    return BadRequest("websocket: control frames must be whole and at most 125 bytes");
  }
  if (length > max_payload) {
    return Status(Code::kRequestEntityTooLarge, "websocket: message of " + std::to_string(length) +
                                                    " bytes exceeds the limit of " + std::to_string(max_payload));
  }
  uint8_t mask[4] = {0, 0, 0, 0};
  if (masked) {
    if (in.size() < pos + 4) return size_t{0};
    for (int i = 0; i < 4; ++i) mask[i] = static_cast<uint8_t>(in[pos + i]);
    pos += 4;
  }
  if (in.size() - pos < length) return size_t{0};

  out->fin = fin;
  out->opcode = opcode;
  out->payload.assign(in.data() + pos, length);
  if (masked) {
    for (size_t i = 0; i < length; ++i) out->payload[i] = static_cast<char>(out->payload[i] ^ mask[i & 3]);
  }
  return pos + static_cast<size_t>(length);
}

namespace {

// The frame header for a payload of n bytes.
std::string FrameHeader(Opcode opcode, uint64_t n, bool fin, bool masked) {
  std::string h;
  h += static_cast<char>((fin ? 0x80 : 0) | static_cast<uint8_t>(opcode));
  const uint8_t mask_bit = masked ? 0x80 : 0;
  if (n < 126) {
    h += static_cast<char>(mask_bit | n);
  } else if (n <= 0xFFFF) {
    h += static_cast<char>(mask_bit | 126);
    h += static_cast<char>(n >> 8);
    h += static_cast<char>(n & 0xFF);
  } else {
    h += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) h += static_cast<char>((n >> shift) & 0xFF);
  }
  return h;
}

}  // namespace

std::string EncodeFrame(Opcode opcode, std::string_view payload, bool fin, std::optional<uint32_t> mask) {
  std::string out = FrameHeader(opcode, payload.size(), fin, mask.has_value());
  if (!mask) {
    out.append(payload);
    return out;
  }
  uint8_t key[4] = {static_cast<uint8_t>(*mask >> 24), static_cast<uint8_t>(*mask >> 16),
                    static_cast<uint8_t>(*mask >> 8), static_cast<uint8_t>(*mask)};
  out.append(reinterpret_cast<const char*>(key), 4);
  for (size_t i = 0; i < payload.size(); ++i) out += static_cast<char>(payload[i] ^ key[i & 3]);
  return out;
}

// ---- WebSocket -------------------------------------------------------------------

Status WebSocket::Receive(std::vector<Message>* out) {
  if (closed_) return Status::OK();
  char buf[64 * 1024];
  size_t n = conn_.Read(buf, sizeof buf);
  if (n == 0) {
    closed_ = true;
    return Status::OK();
  }
  in_.append(buf, n);

  size_t used = 0;
  while (!closed_) {
    Frame frame;
    Result<size_t> r = DecodeFrame(std::string_view(in_).substr(used), /*from_client=*/true, max_message_, &frame);
    if (!r.ok()) {
      return Fail(r.status().code() == Code::kRequestEntityTooLarge ? kCloseTooBig : kCloseProtocolError,
                  r.status().message());
    }
    if (*r == 0) break;
    used += *r;
    KUBES_RETURN_IF_ERROR(HandleFrame(std::move(frame), out));
  }
  in_.erase(0, used);
  return Status::OK();
}

Status WebSocket::HandleFrame(Frame frame, std::vector<Message>* out) {
  switch (frame.opcode) {
    case Opcode::kPing:
      WriteFrame(Opcode::kPong, {}, frame.payload);
      return Status::OK();
    case Opcode::kPong:
      return Status::OK();
    case Opcode::kClose: {
      if (frame.payload.size() == 1) return Fail(kCloseProtocolError, "websocket: close frame of one byte");
      peer_close_code_ = 1005;
      std::string echo;
      if (frame.payload.size() >= 2) {
        peer_close_code_ = static_cast<uint16_t>(BigEndian(std::string_view(frame.payload).substr(0, 2)));
        echo = frame.payload.substr(0, 2);
      }
      if (!close_sent_) {
        WriteFrame(Opcode::kClose, {}, echo);
        close_sent_ = true;
      }
      closed_ = true;
      return Status::OK();
    }
    case Opcode::kText:
    case Opcode::kBinary:
      if (partial_) return Fail(kCloseProtocolError, "websocket: a new message began inside a fragmented one");
      if (frame.fin) {
        out->push_back(Message{frame.opcode, std::move(frame.payload)});
      } else {
        partial_ = Message{frame.opcode, std::move(frame.payload)};
      }
      return Status::OK();
    case Opcode::kContinuation:
      if (!partial_) return Fail(kCloseProtocolError, "websocket: continuation frame without a message to continue");
      if (partial_->data.size() + frame.payload.size() > max_message_) {
        return Fail(kCloseTooBig, "websocket: fragmented message exceeds the limit of " + std::to_string(max_message_));
      }
      partial_->data += frame.payload;
      if (frame.fin) {
        out->push_back(std::move(*partial_));
        partial_.reset();
      }
      return Status::OK();
  }
  return Fail(kCloseProtocolError, "websocket: unexpected opcode");
}

Status WebSocket::Fail(uint16_t code, std::string message) {
  SendClose(code);
  closed_ = true;
  return BadRequest(std::move(message));
}

bool WebSocket::WriteFrame(Opcode opcode, std::string_view prefix, std::string_view payload) {
  if (write_failed_ || close_sent_) return false;
  std::string frame = FrameHeader(opcode, prefix.size() + payload.size(), /*fin=*/true, /*masked=*/false);
  frame.append(prefix);
  frame.append(payload);
  if (!conn_.Write(frame.data(), frame.size())) {
    write_failed_ = true;
    closed_ = true;  // the peer is gone: nothing more will arrive either
  }
  return !write_failed_;
}

bool WebSocket::Send(Opcode type, std::string_view data, std::string_view prefix) {
  return WriteFrame(type, prefix, data);
}

bool WebSocket::SendClose(uint16_t code, std::string_view reason) {
  if (close_sent_) return false;
  std::string payload;
  payload += static_cast<char>(code >> 8);
  payload += static_cast<char>(code & 0xFF);
  payload.append(reason.substr(0, 123));
  bool ok = WriteFrame(Opcode::kClose, {}, payload);
  close_sent_ = true;
  return ok;
}

void WebSocket::AwaitClose(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<Message> dropped;
  while (!closed_ && !write_failed_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    if (!conn_.Buffered()) {
      pollfd p{conn_.PollFd(), POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
    }
    if (!Receive(&dropped).ok()) return;
    dropped.clear();
  }
}

}  // namespace kubes::kubelet::streaming
