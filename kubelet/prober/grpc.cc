#include "kubelet/prober/grpc.h"

#include <thread>

#include "kubelet/prober/net.h"
#include "util/strings.h"
#include "util/time.h"

namespace kubes::kubelet::prober {
namespace h2 {
namespace {

constexpr uint32_t kMaxFrameSize = 16384;  // SETTINGS_MAX_FRAME_SIZE's default: we announce no other
constexpr size_t kMaxData = 1 << 20;
constexpr uint32_t kStream = 1;

uint32_t Be32(std::string_view s, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 8) | static_cast<uint8_t>(s[at + 3]);
}

std::string PutBe32(uint32_t v) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (24 - 8 * i)) & 0xff);
  return out;
}

std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}

bool ReadVarint(std::string_view s, size_t* pos, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= s.size()) return false;
    uint8_t b = static_cast<uint8_t>(s[(*pos)++]);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

// HealthCheckResponse.status (field 1, an enum); 0 when absent. False when the bytes
// are not a protobuf message.
bool ParseHealthCheckResponse(std::string_view msg, int* status) {
  *status = 0;
  size_t pos = 0;
  while (pos < msg.size()) {
    uint64_t key = 0, v = 0;
    if (!ReadVarint(msg, &pos, &key)) return false;
    switch (key & 7) {
      case 0:
        if (!ReadVarint(msg, &pos, &v)) return false;
        if ((key >> 3) == 1) *status = static_cast<int>(v & 0x7fffffff);
        break;
      case 1:
        if (msg.size() - pos < 8) return false;
        pos += 8;
        break;
      case 2:
        if (!ReadVarint(msg, &pos, &v) || v > msg.size() - pos) return false;
        pos += static_cast<size_t>(v);
        break;
      case 5:
        if (msg.size() - pos < 4) return false;
        pos += 4;
        break;
      default:
        return false;
    }
  }
  return true;
}

std::string ErrorCodeName(uint32_t code) {
  static const char* names[] = {"NO_ERROR",          "PROTOCOL_ERROR",     "INTERNAL_ERROR",    "FLOW_CONTROL_ERROR",
                                "SETTINGS_TIMEOUT",  "STREAM_CLOSED",      "FRAME_SIZE_ERROR",  "REFUSED_STREAM",
                                "CANCEL",            "COMPRESSION_ERROR",  "CONNECT_ERROR",     "ENHANCE_YOUR_CALM",
                                "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"};
  return code < 14 ? names[code] : "unknown error code " + std::to_string(code);
}

// grpc-go's mapping of a non-200 HTTP status to a gRPC code.
int CodeForHTTPStatus(int status) {
  switch (status) {
    case 400:
      return 13;  // Internal
    case 401:
      return 16;  // Unauthenticated
    case 403:
      return 7;  // PermissionDenied
    case 404:
      return 12;  // Unimplemented
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;  // Unavailable
    default:
      return 2;  // Unknown
  }
}

// The value of the last field called `name` (trailers come after headers).
const std::string* Last(const std::vector<hpack::HeaderField>& fields, std::string_view name) {
  const std::string* found = nullptr;
  for (const auto& f : fields) {
    if (f.first == name) found = &f.second;
  }
  return found;
}

}  // namespace

std::string Frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
  std::string out;
  uint32_t len = static_cast<uint32_t>(payload.size());
  out += static_cast<char>((len >> 16) & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(type);
  out += static_cast<char>(flags);
  out += PutBe32(stream & 0x7fffffff);
  out += payload;
  return out;
}

std::string ServingStatusName(int status) {
  switch (status) {
    case 0:
      return "UNKNOWN";
    case 1:
      return "SERVING";
    case 2:
      return "NOT_SERVING";
    case 3:
      return "SERVICE_UNKNOWN";
  }
  return std::to_string(status);
}

std::string GRPCCodeName(int code) {
  static const char* names[] = {"OK",       "Canceled",           "Unknown",     "InvalidArgument", "DeadlineExceeded",
                                "NotFound", "AlreadyExists",      "PermissionDenied", "ResourceExhausted",
                                "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal",
                                "Unavailable", "DataLoss", "Unauthenticated"};
  if (code >= 0 && code <= 16) return names[code];
  return "Code(" + std::to_string(code) + ")";
}

std::string UnaryCall::Request(const std::string& authority, const std::string& service,
                               const std::string& user_agent, std::chrono::milliseconds timeout) {
  std::string out(kClientPreface);
  out += Frame(kSettings, 0, 0, std::string("\x00\x02\x00\x00\x00\x00", 6));  // ENABLE_PUSH = 0
  std::string block;
  for (const auto& [name, value] : std::vector<hpack::HeaderField>{
           {":method", "POST"},
           {":scheme", "http"},
           {":path", "/grpc.health.v1.Health/Check"},
           {":authority", authority},
           {"content-type", "application/grpc"},
           {"user-agent", user_agent},
           {"te", "trailers"},
           {"grpc-timeout", std::to_string(std::max<int64_t>(1, timeout.count())) + "m"},
       }) {
    block += hpack::EncodeLiteral(name, value);
  }
  out += Frame(kHeaders, kEndHeaders, kStream, block);
  // HealthCheckRequest{service}: field 1, a string, left out when empty.
  std::string message = service.empty() ? "" : "\x0a" + Varint(service.size()) + service;
  out += Frame(kData, kEndStream, kStream, std::string(1, '\0') + PutBe32(static_cast<uint32_t>(message.size())) + message);
  return out;
}

Status UnaryCall::OnBytes(std::string_view data, std::string* reply) {
  buffer_.append(data);
  while (buffer_.size() >= 9 && !done_) {
    uint32_t len = (static_cast<uint32_t>(static_cast<uint8_t>(buffer_[0])) << 16) |
                   (static_cast<uint32_t>(static_cast<uint8_t>(buffer_[1])) << 8) | static_cast<uint8_t>(buffer_[2]);
    if (len > kMaxFrameSize) return Status(Code::kBadRequest, "http2: frame too large");
    if (buffer_.size() < 9 + len) break;
    uint8_t type = static_cast<uint8_t>(buffer_[3]), flags = static_cast<uint8_t>(buffer_[4]);
    uint32_t stream = Be32(buffer_, 5) & 0x7fffffff;
    std::string payload = buffer_.substr(9, len);
    buffer_.erase(0, 9 + len);
    // The server's preface is a SETTINGS frame.
    if (!connected_ && type != kSettings) return Status(Code::kBadRequest, "http2: server preface is not SETTINGS");
    Status s = OnFrame(type, flags, stream, payload, reply);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status UnaryCall::OnFrame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload, std::string* reply) {
  if (in_headers_ && type != kContinuation) return Status(Code::kBadRequest, "http2: expected CONTINUATION");
  switch (type) {
    case kSettings:
      if (stream != 0 || payload.size() % 6 != 0) return Status(Code::kBadRequest, "http2: bad SETTINGS frame");
      if (!(flags & kAck)) {
        connected_ = true;
        *reply += Frame(kSettings, kAck, 0, "");
      }
      return Status::OK();
    case kPing:
      if (payload.size() != 8) return Status(Code::kBadRequest, "http2: bad PING frame");
      if (!(flags & kAck)) *reply += Frame(kPing, kAck, 0, payload);
      return Status::OK();
    case kHeaders: {
      std::string_view fragment = payload;
      if (flags & kPadded) {
        if (fragment.empty() || static_cast<uint8_t>(fragment[0]) >= fragment.size()) {
          return Status(Code::kBadRequest, "http2: bad padding");
        }
        size_t pad = static_cast<uint8_t>(fragment[0]);
        fragment = fragment.substr(1, fragment.size() - 1 - pad);
      }
      if (flags & kPriorityFlag) {
        if (fragment.size() < 5) return Status(Code::kBadRequest, "http2: bad HEADERS frame");
        fragment.remove_prefix(5);
      }
      header_block_.assign(fragment);
      in_headers_ = true;
      headers_end_stream_ = (flags & kEndStream) && stream == kStream;
      return (flags & kEndHeaders) ? OnHeaderBlock(headers_end_stream_) : Status::OK();
    }
    case kContinuation:
      if (!in_headers_) return Status(Code::kBadRequest, "http2: unexpected CONTINUATION");
      if (header_block_.size() + payload.size() > kMaxData) return Status(Code::kBadRequest, "http2: header block too large");
      header_block_.append(payload);
      return (flags & kEndHeaders) ? OnHeaderBlock(headers_end_stream_) : Status::OK();
    case kData: {
      if (stream != kStream) return Status::OK();
      std::string_view body = payload;
      if (flags & kPadded) {
        if (body.empty() || static_cast<uint8_t>(body[0]) >= body.size()) return Status(Code::kBadRequest, "http2: bad padding");
        size_t pad = static_cast<uint8_t>(body[0]);
        body = body.substr(1, body.size() - 1 - pad);
      }
      if (data_.size() + body.size() > kMaxData) return Status(Code::kBadRequest, "http2: response too large");
      data_.append(body);
      if (flags & kEndStream) done_ = true;
      return Status::OK();
    }
    case kRstStream:
      if (stream == kStream && payload.size() == 4) {
        reset_ = "stream terminated by RST_STREAM with error code: " + ErrorCodeName(Be32(payload, 0));
        done_ = true;
      }
      return Status::OK();
    case kGoAway:
      // Streams up to the last id the server names are still answered.
      if (payload.size() >= 8 && (Be32(payload, 0) & 0x7fffffff) < kStream) {
        return Status(Code::kServiceUnavailable, "the server sent GOAWAY before the call started");
      }
      return Status::OK();
    case kPushPromise:
      return Status(Code::kBadRequest, "http2: PUSH_PROMISE though push is off");
    default:  // PRIORITY, WINDOW_UPDATE and unknown types need nothing here
      return Status::OK();
  }
}

Status UnaryCall::OnHeaderBlock(bool end_stream) {
  in_headers_ = false;
  std::vector<hpack::HeaderField> fields;
  Status s = decoder_.Decode(header_block_, &fields);
  header_block_.clear();
  if (!s.ok()) return s;
  headers_.insert(headers_.end(), fields.begin(), fields.end());
  if (end_stream) done_ = true;
  return Status::OK();
}

UnaryCall::Outcome UnaryCall::Result() const {
  if (!reset_.empty()) return {13, reset_, 0};
  const std::string* http_status = nullptr;
  for (const auto& f : headers_) {
    if (f.first == ":status") {
      http_status = &f.second;
      break;
    }
  }
  if (http_status && *http_status != "200") {
    int code = std::atoi(http_status->c_str());
    return {CodeForHTTPStatus(code), "unexpected HTTP status code received from server: " + *http_status, 0};
  }
  const std::string* grpc_status = Last(headers_, "grpc-status");
  if (!grpc_status) return {13, "server closed the stream without sending trailers", 0};
  int code = std::atoi(grpc_status->c_str());
  if (code != 0) {
    const std::string* msg = Last(headers_, "grpc-message");
    return {code, msg ? PercentDecode(*msg) : "", 0};
  }
  if (data_.size() < 5) return {13, "server returned no response message", 0};
  if (data_[0] != 0) return {13, "grpc: compressed response though none was asked for", 0};
  uint32_t len = Be32(data_, 1);
  int status = 0;
  if (len > data_.size() - 5 || !ParseHealthCheckResponse(std::string_view(data_).substr(5, len), &status)) {
    return {13, "grpc: failed to unmarshal the received message", 0};
  }
  return {0, "", status};
}

}  // namespace h2

ProbeOutput DoGRPCProbe(const std::string& host, int port, const std::string& service,
                        std::chrono::milliseconds timeout, const std::string& user_agent) {
  using SteadyClock = std::chrono::steady_clock;
  std::string addr = JoinHostPort(host, port);
  std::string within = GoDurationString(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count());
  auto rpc_failed = [](const std::string& code, const std::string& desc) {
    return ProbeOutput::Failure("error: health rpc probe failed: rpc error: code = " + code + " desc = " + desc);
  };
  Deadline deadline = SteadyClock::now() + timeout;
  bool connected = false;
  // Connect (again) until the server's SETTINGS arrive, as a blocking gRPC dial does.
  while (SteadyClock::now() < deadline) {
    auto retry_later = [&] {
      std::this_thread::sleep_for(std::min<SteadyClock::duration>(std::chrono::milliseconds(100),
                                                                  deadline - SteadyClock::now()));
    };
    auto fd = DialTCP(host, port, deadline);
    if (!fd.ok()) {
      if (fd.status().code() == Code::kTimeout) break;
      retry_later();
      continue;
    }
    auto stream = NewPlainStream(std::move(fd).value());
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    Status sent = stream->Write(h2::UnaryCall::Request(addr, service, user_agent, left), deadline);
    h2::UnaryCall call;
    Status broken = sent;
    char buf[16384];
    while (broken.ok() && !call.done()) {
      auto n = stream->Read(buf, sizeof buf, deadline);
      if (!n.ok()) {
        broken = n.status();
        break;
      }
      if (*n == 0) {
        broken = Status(Code::kServiceUnavailable, "error reading from server: EOF");
        break;
      }
      std::string reply;
      broken = call.OnBytes(std::string_view(buf, *n), &reply);
      if (broken.ok() && !reply.empty()) broken = stream->Write(reply, deadline);
    }
    connected = connected || call.connected();
    if (broken.code() == Code::kTimeout) break;
    if (!broken.ok()) {
      if (!call.connected()) {
        retry_later();
        continue;
      }
      return rpc_failed("Unavailable", broken.message());
    }
    h2::UnaryCall::Outcome out = call.Result();
    if (out.grpc_code == 0) {
      if (out.status == 1) return ProbeOutput::Success("service healthy");
      return ProbeOutput::Failure("service unhealthy (responded with \"" + h2::ServingStatusName(out.status) + "\")");
    }
    if (out.grpc_code == 12) {
      return ProbeOutput::Failure(
          "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): " + out.message);
    }
    if (out.grpc_code == 4) return ProbeOutput::Failure("timeout: health rpc did not complete within " + within);
    return rpc_failed(h2::GRPCCodeName(out.grpc_code), out.message);
  }
  if (connected) return ProbeOutput::Failure("timeout: health rpc did not complete within " + within);
  return ProbeOutput::Failure("timeout: failed to connect service \"" + addr + "\" within " + within +
                              ": context deadline exceeded");
}

}  // namespace kubes::kubelet::prober
