#include "kubelet/prober/hpack.h"

#include <array>

namespace kubes::kubelet::prober::hpack {
namespace {

// RFC 7541 Appendix A.
constexpr std::array<std::pair<const char*, const char*>, 61> kStaticTable = {{
    {":authority", ""}, {":method", "GET"}, {":method", "POST"}, {":path", "/"}, {":path", "/index.html"},
    {":scheme", "http"}, {":scheme", "https"}, {":status", "200"}, {":status", "204"}, {":status", "206"},
    {":status", "304"}, {":status", "400"}, {":status", "404"}, {":status", "500"}, {"accept-charset", ""},
    {"accept-encoding", "gzip, deflate"}, {"accept-language", ""}, {"accept-ranges", ""}, {"accept", ""},
    {"access-control-allow-origin", ""}, {"age", ""}, {"allow", ""}, {"authorization", ""},
    {"cache-control", ""}, {"content-disposition", ""}, {"content-encoding", ""}, {"content-language", ""},
    {"content-length", ""}, {"content-location", ""}, {"content-range", ""}, {"content-type", ""},
    {"cookie", ""}, {"date", ""}, {"etag", ""}, {"expect", ""}, {"expires", ""}, {"from", ""}, {"host", ""},
    {"if-match", ""}, {"if-modified-since", ""}, {"if-none-match", ""}, {"if-range", ""},
    {"if-unmodified-since", ""}, {"last-modified", ""}, {"link", ""}, {"location", ""}, {"max-forwards", ""},
    {"proxy-authenticate", ""}, {"proxy-authorization", ""}, {"range", ""}, {"referer", ""}, {"refresh", ""},
    {"retry-after", ""}, {"server", ""}, {"set-cookie", ""}, {"strict-transport-security", ""},
    {"transfer-encoding", ""}, {"user-agent", ""}, {"vary", ""}, {"via", ""}, {"www-authenticate", ""},
}};

constexpr int kEOS = 256;
constexpr int kMaxCodeLength = 30;

// The code length of each symbol (0-255, and 256 = EOS), RFC 7541 Appendix B.
constexpr std::array<uint8_t, 257> kCodeLengths = {
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,  // 0-15
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,  // 16-31
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,  // 32-47
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,  // 48-63
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,  // 64-79
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,  // 80-95
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,  // 96-111
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,  // 112-127
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,  // 128-143
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,  // 144-159
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,  // 160-175
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,  // 176-191
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,  // 192-207
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,  // 208-223
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,  // 224-239
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,  // 240-255
    30,  // 256-256
};

// The canonical code rebuilt from the lengths: codes of one length are consecutive,
// in symbol order, each length's first code following the previous length's last.
struct HuffmanCode {
  std::array<uint32_t, 257> code{};
  std::array<uint32_t, kMaxCodeLength + 1> first{};  // first code of each length
  std::array<uint32_t, kMaxCodeLength + 1> count{};  // symbols of each length
  std::array<uint32_t, kMaxCodeLength + 1> offset{};  // their start in `symbols`
  std::array<uint16_t, 257> symbols{};                // by length, then symbol

  HuffmanCode() {
    for (uint8_t len : kCodeLengths) ++count[len];
    uint32_t next = 0, placed = 0;
    std::array<uint32_t, kMaxCodeLength + 2> next_code{};
    for (int len = 1; len <= kMaxCodeLength; ++len) {
      next = (next + count[len - 1]) << 1;
      first[len] = next;
      next_code[len] = next;
      offset[len] = placed;
      placed += count[len];
    }
    std::array<uint32_t, kMaxCodeLength + 1> filled{};
    for (int sym = 0; sym <= kEOS; ++sym) {
      int len = kCodeLengths[sym];
      code[sym] = next_code[len]++;
      symbols[offset[len] + filled[len]++] = static_cast<uint16_t>(sym);
    }
  }
};

const HuffmanCode& Huffman() {
  static const HuffmanCode h;
  return h;
}

// Reads an integer with an N-bit prefix at *pos.
Result<uint64_t> ReadInteger(std::string_view in, size_t* pos, int prefix_bits) {
  if (*pos >= in.size()) return Status(Code::kBadRequest, "hpack: truncated integer");
  uint64_t max_prefix = (1u << prefix_bits) - 1;
  uint64_t value = static_cast<uint8_t>(in[(*pos)++]) & max_prefix;
  if (value < max_prefix) return value;
  for (int shift = 0; shift <= 28; shift += 7) {
    if (*pos >= in.size()) return Status(Code::kBadRequest, "hpack: truncated integer");
    uint8_t b = static_cast<uint8_t>(in[(*pos)++]);
    value += static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return value;
  }
  return Status(Code::kBadRequest, "hpack: integer too large");
}

Result<std::string> ReadString(std::string_view in, size_t* pos) {
  if (*pos >= in.size()) return Status(Code::kBadRequest, "hpack: truncated string");
  bool huffman = static_cast<uint8_t>(in[*pos]) & 0x80;
  auto len = ReadInteger(in, pos, 7);
  if (!len.ok()) return len.status();
  if (*len > in.size() - *pos) return Status(Code::kBadRequest, "hpack: truncated string");
  std::string_view raw = in.substr(*pos, static_cast<size_t>(*len));
  *pos += static_cast<size_t>(*len);
  if (huffman) return HuffmanDecode(raw);
  return std::string(raw);
}

}  // namespace

std::string EncodeInteger(uint64_t value, int prefix_bits, uint8_t first) {
  std::string out;
  uint64_t max_prefix = (1u << prefix_bits) - 1;
  if (value < max_prefix) {
    out += static_cast<char>(first | value);
    return out;
  }
  out += static_cast<char>(first | max_prefix);
  value -= max_prefix;
  while (value >= 128) {
    out += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
  return out;
}

std::string EncodeLiteral(std::string_view name, std::string_view value) {
  std::string out(1, '\0');  // 0000 0000: without indexing, new name
  out += EncodeInteger(name.size(), 7, 0);
  out += name;
  out += EncodeInteger(value.size(), 7, 0);
  out += value;
  return out;
}

std::string HuffmanEncode(std::string_view text) {
  const HuffmanCode& h = Huffman();
  std::string out;
  uint64_t bits = 0;
  int n = 0;
  for (unsigned char c : text) {
    bits = (bits << kCodeLengths[c]) | h.code[c];
    n += kCodeLengths[c];
    while (n >= 8) {
      n -= 8;
      out += static_cast<char>((bits >> n) & 0xff);
    }
  }
  if (n > 0) out += static_cast<char>(((bits << (8 - n)) | (0xff >> n)) & 0xff);  // pad with EOS's ones
  return out;
}

Result<std::string> HuffmanDecode(std::string_view code) {
  const HuffmanCode& h = Huffman();
  std::string out;
  uint32_t value = 0;
  int len = 0;
  bool all_ones = true;  // the bits since the last symbol
  for (unsigned char byte : code) {
    for (int bit = 7; bit >= 0; --bit) {
      uint32_t b = (byte >> bit) & 1;
      value = (value << 1) | b;
      all_ones = all_ones && b;
      ++len;
      if (len > kMaxCodeLength) return Status(Code::kBadRequest, "hpack: invalid Huffman code");
      if (h.count[len] && value >= h.first[len] && value - h.first[len] < h.count[len]) {
        int sym = h.symbols[h.offset[len] + value - h.first[len]];
        if (sym == kEOS) return Status(Code::kBadRequest, "hpack: EOS in Huffman string");
        out += static_cast<char>(sym);
        value = 0;
        len = 0;
        all_ones = true;
      }
    }
  }
  // What is left is padding: fewer than 8 bits, all ones (a prefix of EOS).
  if (len >= 8 || !all_ones) return Status(Code::kBadRequest, "hpack: invalid Huffman padding");
  return out;
}

Result<HeaderField> Decoder::Lookup(uint64_t index) const {
  if (index == 0) return Status(Code::kBadRequest, "hpack: index 0");
  if (index <= kStaticTable.size()) return HeaderField(kStaticTable[index - 1].first, kStaticTable[index - 1].second);
  uint64_t d = index - kStaticTable.size() - 1;
  if (d >= dynamic_.size()) return Status(Code::kBadRequest, "hpack: index " + std::to_string(index) + " out of range");
  return dynamic_[static_cast<size_t>(d)];
}

void Decoder::Evict() {
  while (size_ > max_size_ && !dynamic_.empty()) {
    size_ -= dynamic_.back().first.size() + dynamic_.back().second.size() + 32;
    dynamic_.pop_back();
  }
}

void Decoder::Insert(HeaderField field) {
  size_t entry = field.first.size() + field.second.size() + 32;
  dynamic_.push_front(std::move(field));
  size_ += entry;
  Evict();  // an entry larger than the table empties it (and itself goes)
}

Status Decoder::Decode(std::string_view block, std::vector<HeaderField>* out) {
  size_t pos = 0;
  while (pos < block.size()) {
    uint8_t b = static_cast<uint8_t>(block[pos]);
    if (b & 0x80) {  // indexed field
      auto index = ReadInteger(block, &pos, 7);
      if (!index.ok()) return index.status();
      auto field = Lookup(*index);
      if (!field.ok()) return field.status();
      out->push_back(*field);
      continue;
    }
    if ((b & 0xe0) == 0x20) {  // dynamic table size update
      auto size = ReadInteger(block, &pos, 5);
      if (!size.ok()) return size.status();
      if (*size > max_allowed_) return Status(Code::kBadRequest, "hpack: table size above the limit");
      max_size_ = static_cast<size_t>(*size);
      Evict();
      continue;
    }
    bool indexing = (b & 0xc0) == 0x40;  // else without indexing (0000) or never indexed (0001)
    auto index = ReadInteger(block, &pos, indexing ? 6 : 4);
    if (!index.ok()) return index.status();
    HeaderField field;
    if (*index == 0) {
      auto name = ReadString(block, &pos);
      if (!name.ok()) return name.status();
      field.first = std::move(name).value();
    } else {
      auto named = Lookup(*index);
      if (!named.ok()) return named.status();
      field.first = named->first;
    }
    auto value = ReadString(block, &pos);
    if (!value.ok()) return value.status();
    field.second = std::move(value).value();
    if (indexing) Insert(field);
    out->push_back(std::move(field));
  }
  return Status::OK();
}

}  // namespace kubes::kubelet::prober::hpack
