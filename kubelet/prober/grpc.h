// The grpc probe: one call of grpc.health.v1.Health/Check over HTTP/2 without TLS
// (upstream: pkg/probe/grpc/grpc.go on grpc-go).
//
// Rather than a gRPC library, a minimal HTTP/2 client for exactly one unary call
// (RFC 9113): the connection preface and SETTINGS; HEADERS for
// POST /grpc.health.v1.Health/Check written as HPACK literals; one DATA frame with the
// 5-byte gRPC message prefix and HealthCheckRequest{service}; then the server's
// frames — SETTINGS (acknowledged), PING (answered), HEADERS/CONTINUATION (HPACK,
// hpack.h), DATA, trailers with grpc-status — until the stream ends. The response's
// field 1 is the HealthCheckResponse status: SERVING (1) is healthy.
//
// Outcomes, worded as upstream (the probe reports grpc-go's texts):
//   service healthy
//   service unhealthy (responded with "NOT_SERVING")
//   error: this server does not implement the grpc health protocol (grpc.health.v1.Health): <message>
//   error: health rpc probe failed: rpc error: code = NotFound desc = unknown service
//   timeout: health rpc did not complete within 1s
//   timeout: failed to connect service "10.42.0.7:9000" within 1s: context deadline exceeded
// The last one covers every connection that never got the server's SETTINGS: like
// grpc-go's blocking dial, connecting is retried until the timeout.
//
// Thread-safety: DoGRPCProbe is independent per call; a UnaryCall belongs to one
// thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "kubelet/prober/hpack.h"
#include "kubelet/prober/probe.h"

namespace kubes::kubelet::prober {

ProbeOutput DoGRPCProbe(const std::string& host, int port, const std::string& service,
                        std::chrono::milliseconds timeout, const std::string& user_agent);

namespace h2 {

enum FrameType : uint8_t {
  kData = 0,
  kHeaders = 1,
  kPriority = 2,
  kRstStream = 3,
  kSettings = 4,
  kPushPromise = 5,
  kPing = 6,
  kGoAway = 7,
  kWindowUpdate = 8,
  kContinuation = 9,
};
enum Flags : uint8_t { kEndStream = 0x1, kAck = 0x1, kEndHeaders = 0x4, kPadded = 0x8, kPriorityFlag = 0x20 };

inline constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// One frame on the wire: 9-byte header, then the payload.
std::string Frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload);

// The gRPC health check call on stream 1, driven by the bytes the server sends.
class UnaryCall {
 public:
  // Everything the client sends first: preface, SETTINGS, HEADERS, DATA.
  static std::string Request(const std::string& authority, const std::string& service, const std::string& user_agent,
                             std::chrono::milliseconds timeout);

  // Takes the server's bytes; appends to *reply what must be sent back (SETTINGS
  // and PING acknowledgements). An error is a broken connection or protocol.
  Status OnBytes(std::string_view data, std::string* reply);

  bool connected() const { return connected_; }  // the server's SETTINGS arrived
  bool done() const { return done_; }            // the stream ended

  // After done(): the health status (1 = SERVING), or the call's error as grpc-go
  // words it ("rpc error: code = NotFound desc = unknown service"), with its code.
  struct Outcome {
    int grpc_code = 0;    // 0 = OK
    std::string message;  // grpc-message, or why the call failed
    int status = 0;       // HealthCheckResponse.status when grpc_code == 0
  };
  Outcome Result() const;

 private:
  Status OnFrame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload, std::string* reply);
  Status OnHeaderBlock(bool end_stream);

  std::string buffer_;
  bool connected_ = false;
  bool done_ = false;
  hpack::Decoder decoder_;
  std::string header_block_;  // HEADERS and its CONTINUATIONs so far
  bool in_headers_ = false;
  bool headers_end_stream_ = false;
  std::vector<hpack::HeaderField> headers_;  // response headers, then trailers
  std::string data_;
  std::string reset_;  // why the stream was reset, if it was
};

// HealthCheckResponse.status's name: "SERVING", "NOT_SERVING", …
std::string ServingStatusName(int status);
// grpc-go's codes.Code.String(): "NotFound", "Unimplemented", …
std::string GRPCCodeName(int code);

}  // namespace h2
}  // namespace kubes::kubelet::prober
