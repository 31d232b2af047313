#include "kubelet/streaming/spdy.h"

#include <zlib.h>

#include <cctype>
#include <cstring>

namespace kubes::kubelet::streaming::spdy {
namespace {

constexpr uint16_t kVersion = 3;

// The dictionary of the SPDY/3 draft (§2.6.10.1): common header names and values,
// each written with a 4-byte big-endian length in front, then a run of common
// status lines, dates and content types without lengths.
constexpr std::string_view kDictionaryWords[] = {
    "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
    "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
    "content-base", "content-encoding", "content-language", "content-length", "content-location",
    "content-md5", "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host",
    "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified",
    "location", "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
    "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via",
    "warning", "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url",
    "public", "set-cookie", "keep-alive", "origin"};
constexpr std::string_view kDictionaryTail =
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
    "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
    "503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

void Put32(std::string& out, uint32_t v) {
  out += static_cast<char>(v >> 24);
  out += static_cast<char>((v >> 16) & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
  out += static_cast<char>(v & 0xFF);
}

void Put16(std::string& out, uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xFF);
}

uint32_t Get32(std::string_view in, size_t at) {
  return (uint32_t(uint8_t(in[at])) << 24) | (uint32_t(uint8_t(in[at + 1])) << 16) |
         (uint32_t(uint8_t(in[at + 2])) << 8) | uint32_t(uint8_t(in[at + 3]));
}

// The 8-byte header of a control frame.
std::string ControlHeader(FrameType type, uint8_t flags, size_t length) {
  std::string h;
  Put16(h, 0x8000 | kVersion);
  Put16(h, static_cast<uint16_t>(type));
  Put32(h, (uint32_t(flags) << 24) | static_cast<uint32_t>(length));
  return h;
}

}  // namespace

const std::string& HeaderDictionary() {
  static const std::string dictionary = [] {
    std::string d;
    for (std::string_view w : kDictionaryWords) {
      Put32(d, static_cast<uint32_t>(w.size()));
      d += w;
    }
    d += kDictionaryTail;
    return d;
  }();
  return dictionary;
}

// One zlib stream per direction, alive as long as the connection.
struct Framer::Zlib {
  z_stream deflate{};
  z_stream inflate{};
  bool inflate_ok = false;
  bool deflate_ok = false;
};

Framer::Framer() : z_(std::make_unique<Zlib>()) {
  const std::string& dict = HeaderDictionary();
  z_->deflate_ok = deflateInit(&z_->deflate, Z_DEFAULT_COMPRESSION) == Z_OK &&
                   deflateSetDictionary(&z_->deflate, reinterpret_cast<const Bytef*>(dict.data()),
                                        static_cast<uInt>(dict.size())) == Z_OK;
  z_->inflate_ok = inflateInit(&z_->inflate) == Z_OK;
}

Framer::~Framer() {
  deflateEnd(&z_->deflate);
  inflateEnd(&z_->inflate);
}

// ---- Decoding --------------------------------------------------------------------

Result<Headers> Framer::DecompressHeaders(std::string_view block) {
  if (!z_->inflate_ok) return Internal("spdy: zlib inflate could not be set up");
  z_stream& z = z_->inflate;
  std::string plain;
  char buf[16 * 1024];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
  z.avail_in = static_cast<uInt>(block.size());
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    int rc = inflate(&z, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      const std::string& dict = HeaderDictionary();
      if (inflateSetDictionary(&z, reinterpret_cast<const Bytef*>(dict.data()), static_cast<uInt>(dict.size())) !=
          Z_OK) {
        return BadRequest("spdy: header block asks for a dictionary other than SPDY/3's");
      }
      continue;
    }
    plain.append(buf, sizeof buf - z.avail_out);
    if (plain.size() > kMaxHeaderBlock) return BadRequest("spdy: header block too large");
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // all input used, nothing more to give
    if (rc != Z_OK) return BadRequest("spdy: bad compressed header block");
    if (z.avail_in == 0 && z.avail_out != 0) break;
  }

  // count { name-length name value-length value }*
  Headers headers;
  std::string_view p = plain;
  if (p.size() < 4) return BadRequest("spdy: truncated header block");
  uint32_t count = Get32(p, 0);
  p.remove_prefix(4);
  for (uint32_t i = 0; i < count; ++i) {
    std::string_view parts[2];
    for (std::string_view& part : parts) {
      if (p.size() < 4) return BadRequest("spdy: truncated header block");
      uint32_t n = Get32(p, 0);
      p.remove_prefix(4);
      if (n > p.size()) return BadRequest("spdy: truncated header block");
      part = p.substr(0, n);
      p.remove_prefix(n);
    }
    if (parts[0].empty()) return BadRequest("spdy: empty header name");
    std::string name(parts[0]);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!headers.emplace(std::move(name), std::string(parts[1])).second) {
      return BadRequest("spdy: header " + std::string(parts[0]) + " appears twice");
    }
  }
  return headers;
}

Result<size_t> Framer::Decode(std::string_view in, Frame* out) {
  if (in.size() < 8) return size_t{0};
  const uint32_t word = Get32(in, 0);
  const uint32_t flags_length = Get32(in, 4);
  const size_t length = flags_length & 0xFFFFFF;
  if (in.size() < 8 + length) return size_t{0};
  const std::string_view body = in.substr(8, length);
  *out = Frame{};
  out->flags = static_cast<uint8_t>(flags_length >> 24);

  if ((word & 0x80000000u) == 0) {
    out->type = FrameType::kData;
    out->stream_id = word;
    if (out->stream_id == 0) return BadRequest("spdy: data frame on stream 0");
    out->data.assign(body);
    return 8 + length;
  }

  const uint16_t version = (word >> 16) & 0x7FFF;
  if (version != kVersion) return BadRequest("spdy: unsupported version " + std::to_string(version));
  out->type = static_cast<FrameType>(word & 0xFFFF);
  auto need = [&](bool ok) { return ok ? Status::OK() : BadRequest("spdy: control frame of the wrong length"); };
  switch (out->type) {
    case FrameType::kSynStream: {
      KUBES_RETURN_IF_ERROR(need(length >= 10));
      out->stream_id = Get32(body, 0) & 0x7FFFFFFF;
      out->associated_stream_id = Get32(body, 4) & 0x7FFFFFFF;
      out->priority = static_cast<uint8_t>(uint8_t(body[8]) >> 5);
      Result<Headers> h = DecompressHeaders(body.substr(10));
      if (!h.ok()) return h.status();
      out->headers = std::move(*h);
      break;
    }
    case FrameType::kSynReply:
    case FrameType::kHeaders: {
      KUBES_RETURN_IF_ERROR(need(length >= 4));
      out->stream_id = Get32(body, 0) & 0x7FFFFFFF;
      Result<Headers> h = DecompressHeaders(body.substr(4));
      if (!h.ok()) return h.status();
      out->headers = std::move(*h);
      break;
    }
    case FrameType::kRstStream:
      KUBES_RETURN_IF_ERROR(need(length == 8));
      out->stream_id = Get32(body, 0) & 0x7FFFFFFF;
      out->status = Get32(body, 4);
      break;
    case FrameType::kSettings: {
      KUBES_RETURN_IF_ERROR(need(length >= 4));
      uint32_t n = Get32(body, 0);
      KUBES_RETURN_IF_ERROR(need((length - 4) / 8 == n && (length - 4) % 8 == 0));
      for (uint32_t i = 0; i < n; ++i) out->settings.emplace_back(Get32(body, 4 + 8 * i), Get32(body, 8 + 8 * i));
      break;
    }
    case FrameType::kPing:
      KUBES_RETURN_IF_ERROR(need(length == 4));
      out->value = Get32(body, 0);
      break;
    case FrameType::kGoAway:
      KUBES_RETURN_IF_ERROR(need(length == 8));
      out->stream_id = Get32(body, 0) & 0x7FFFFFFF;
      out->status = Get32(body, 4);
      break;
    case FrameType::kWindowUpdate:
      KUBES_RETURN_IF_ERROR(need(length == 8));
      out->stream_id = Get32(body, 0) & 0x7FFFFFFF;
      out->value = Get32(body, 4) & 0x7FFFFFFF;
      break;
    default:  // not a SPDY/3 control frame: skipped whole
      out->value = word & 0xFFFF;
      out->type = FrameType::kUnknown;
      break;
  }
  bool needs_stream = out->type == FrameType::kSynStream || out->type == FrameType::kSynReply ||
                      out->type == FrameType::kHeaders || out->type == FrameType::kRstStream;
  if (needs_stream && out->stream_id == 0) return BadRequest("spdy: control frame for stream 0");
  return 8 + length;
}

// ---- Encoding --------------------------------------------------------------------

std::string Framer::CompressHeaders(const Headers& headers) {
  std::string plain;
  Put32(plain, static_cast<uint32_t>(headers.size()));
  for (const auto& [name, value] : headers) {
    Put32(plain, static_cast<uint32_t>(name.size()));
    for (char c : name) plain += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    Put32(plain, static_cast<uint32_t>(value.size()));
    plain += value;
  }
  if (!z_->deflate_ok) return {};
  z_stream& z = z_->deflate;
  std::string out;
  char buf[4096];
  z.next_in = reinterpret_cast<Bytef*>(plain.data());
  z.avail_in = static_cast<uInt>(plain.size());
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    deflate(&z, Z_SYNC_FLUSH);  // cannot fail on a valid stream with room to write
    out.append(buf, sizeof buf - z.avail_out);
  } while (z.avail_out == 0);
  return out;
}

std::string Framer::Encode(const Frame& f) {
  std::string body;
  switch (f.type) {
    case FrameType::kData: {
      std::string out;
      Put32(out, f.stream_id & 0x7FFFFFFF);
      Put32(out, (uint32_t(f.flags) << 24) | static_cast<uint32_t>(f.data.size() & 0xFFFFFF));
      out += f.data;
      return out;
    }
    case FrameType::kSynStream:
      Put32(body, f.stream_id & 0x7FFFFFFF);
      Put32(body, f.associated_stream_id & 0x7FFFFFFF);
      body += static_cast<char>((f.priority & 0x7) << 5);
      body += '\0';  // credential slot
      body += CompressHeaders(f.headers);
      break;
    case FrameType::kSynReply:
    case FrameType::kHeaders:
      Put32(body, f.stream_id & 0x7FFFFFFF);
      body += CompressHeaders(f.headers);
      break;
    case FrameType::kRstStream:
    case FrameType::kGoAway:
      Put32(body, f.stream_id & 0x7FFFFFFF);
      Put32(body, f.status);
      break;
    case FrameType::kSettings:
      Put32(body, static_cast<uint32_t>(f.settings.size()));
      for (const auto& [id, value] : f.settings) {
        Put32(body, id);
        Put32(body, value);
      }
      break;
    case FrameType::kPing:
      Put32(body, f.value);
      break;
    case FrameType::kWindowUpdate:
      Put32(body, f.stream_id & 0x7FFFFFFF);
      Put32(body, f.value & 0x7FFFFFFF);
      break;
    case FrameType::kUnknown:
      return ControlHeader(static_cast<FrameType>(f.value & 0xFFFF), f.flags, 0);
  }
  return ControlHeader(f.type, f.flags, body.size()) + body;
}

// ---- Frame builders --------------------------------------------------------------

Frame SynReply(uint32_t stream_id, uint8_t flags) {
  Frame f;
  f.type = FrameType::kSynReply;
  f.stream_id = stream_id;
  f.flags = flags;
  return f;
}

Frame Data(uint32_t stream_id, std::string data, bool fin) {
  Frame f;
  f.type = FrameType::kData;
  f.stream_id = stream_id;
  f.flags = fin ? kFlagFin : 0;
  f.data = std::move(data);
  return f;
}

Frame RstStream(uint32_t stream_id, uint32_t status) {
  Frame f;
  f.type = FrameType::kRstStream;
  f.stream_id = stream_id;
  f.status = status;
  return f;
}

Frame Ping(uint32_t id) {
  Frame f;
  f.type = FrameType::kPing;
  f.value = id;
  return f;
}

Frame GoAway(uint32_t last_good_stream_id, uint32_t status) {
  Frame f;
  f.type = FrameType::kGoAway;
  f.stream_id = last_good_stream_id;
  f.status = status;
  return f;
}

}  // namespace kubes::kubelet::streaming::spdy
