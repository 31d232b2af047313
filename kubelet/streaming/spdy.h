// SPDY/3.1 framing, the multiplexing layer under `kubectl port-forward`.
//
// Upstream counterpart: github.com/moby/spdystream/spdy (the Go framer client-go
// uses through k8s.io/apimachinery/pkg/util/httpstream/spdy). A Framer turns bytes
// into frames and frames into bytes; it knows nothing about streams or sockets, so
// it runs on any byte pipe (see bytestream.h) and is easy to test and fuzz.
//
// Wire format (draft-mbelshe-httpbis-spdy-00, version 3):
//   control frame: 1 | version(15)=3 | type(16) | flags(8) | length(24) | payload
//   data frame:    0 | stream id(31)          | flags(8) | length(24) | data
// Header blocks (SYN_STREAM, SYN_REPLY, HEADERS) are
//   count(32) { name length(32) name  value length(32) value }*
// compressed with zlib primed with SPDY/3's dictionary. Each direction keeps ONE
// zlib stream for the whole connection (every block ends with a sync flush), so the
// frames of a connection must be encoded, and decoded, in order by one Framer.
//
// Thread-safety: a Framer belongs to one connection and one thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace kubes::kubelet::streaming::spdy {

// Control frame types; kData marks a data frame. A control frame of a type SPDY/3
// does not define decodes as kUnknown with its type number in `value` (SPDY says to
// ignore them).
enum class FrameType : uint16_t {
  kData = 0,
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
  kUnknown = 0xFFFF,
};

inline constexpr uint8_t kFlagFin = 0x01;             // DATA, SYN_STREAM, SYN_REPLY, HEADERS
inline constexpr uint8_t kFlagUnidirectional = 0x02;  // SYN_STREAM

// RST_STREAM status codes.
enum RstStatus : uint32_t {
  kProtocolError = 1,
  kInvalidStream = 2,
  kRefusedStream = 3,
  kUnsupportedVersion = 4,
  kCancel = 5,
  kInternalError = 6,
  kFlowControlError = 7,
  kStreamInUse = 8,
  kStreamAlreadyClosed = 9,
  kFrameTooLarge = 11,
};

// GOAWAY status codes.
enum GoAwayStatus : uint32_t { kGoAwayOk = 0, kGoAwayProtocolError = 1, kGoAwayInternalError = 2 };

// The largest DATA payload one frame can carry (24-bit length).
inline constexpr size_t kMaxDataLength = (1u << 24) - 1;

// Header names are lower case on the wire; a name with several values carries them
// joined by NUL bytes.
using Headers = std::map<std::string, std::string>;

struct Frame {
  FrameType type = FrameType::kData;
  uint8_t flags = 0;
  // The stream of DATA, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE;
  // the last good stream of GOAWAY.
  uint32_t stream_id = 0;
  uint32_t associated_stream_id = 0;  // SYN_STREAM
  uint8_t priority = 0;               // SYN_STREAM, 0 (highest) to 7
  uint32_t status = 0;                // RST_STREAM, GOAWAY
  uint32_t value = 0;                 // PING id, WINDOW_UPDATE delta, kUnknown's type
  std::vector<std::pair<uint32_t, uint32_t>> settings;  // SETTINGS: (flags<<24 | id, value)
  Headers headers;                    // SYN_STREAM, SYN_REPLY, HEADERS
  std::string data;                   // DATA

  bool fin() const { return (flags & kFlagFin) != 0; }
};

// The SPDY/3 header compression dictionary (1423 bytes).
const std::string& HeaderDictionary();

class Framer {
 public:
  // Decompressed header blocks larger than this are a protocol error.
  static constexpr size_t kMaxHeaderBlock = 1 << 20;

  Framer();
  ~Framer();
  Framer(const Framer&) = delete;
  Framer& operator=(const Framer&) = delete;

  // Decodes the frame at the front of `in`: returns the bytes it used, or 0 when
  // `in` does not hold a whole frame yet. An error (BadRequest) is a connection
  // error: the zlib stream may be out of step, so the connection must end (GOAWAY
  // with PROTOCOL_ERROR).
  Result<size_t> Decode(std::string_view in, Frame* out);

  // Encodes a frame, compressing its headers with this side's zlib stream.
  // REQUIRES: data.size() <= kMaxDataLength; stream ids below 2^31.
  std::string Encode(const Frame& frame);

 private:
  Result<Headers> DecompressHeaders(std::string_view block);
  std::string CompressHeaders(const Headers& headers);

  struct Zlib;
  std::unique_ptr<Zlib> z_;
};

// Frames a peer sends, built for tests and for the session's own use.
Frame SynReply(uint32_t stream_id, uint8_t flags = 0);
Frame Data(uint32_t stream_id, std::string data, bool fin = false);
Frame RstStream(uint32_t stream_id, uint32_t status);
Frame Ping(uint32_t id);
Frame GoAway(uint32_t last_good_stream_id, uint32_t status);

}  // namespace kubes::kubelet::streaming::spdy
