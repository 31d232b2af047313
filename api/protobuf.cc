#include "api/protobuf.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>

namespace kubes::api {
namespace {

// Deeper nesting than this is rejected, so hostile input cannot exhaust the stack.
constexpr int kMaxDepth = 100;

// Protobuf wire types (https://protobuf.dev/programming-guides/encoding/).
enum Wire : int { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5 };

const char* WireName(int wire) {
  switch (wire) {
    case kVarint: return "varint";
    case kFixed64: return "fixed64";
    case kLengthDelimited: return "length-delimited";
    case kFixed32: return "fixed32";
    default: return "group";
  }
}

struct Tag {
  int number = 0;
  int wire = 0;
};

// Reads protobuf wire values from a byte range, never past its end.
class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}

  bool AtEnd() const { return pos_ >= data_.size(); }

  Result<uint64_t> ReadVarint() {
    uint64_t value = 0;
    // A varint has at most 10 bytes; like gogo, bits beyond 64 are dropped.
    for (int shift = 0; shift < 70; shift += 7) {
      if (AtEnd()) return Truncated();
      uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      if (shift < 64) value |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return value;
    }
    return BadRequest("varint longer than 10 bytes");
  }

  Result<uint64_t> ReadFixed(size_t size) {
    if (data_.size() - pos_ < size) return Truncated();
    uint64_t value = 0;
    for (size_t i = 0; i < size; ++i) value |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    pos_ += size;
    return value;
  }

  Result<std::string_view> ReadLengthDelimited() {
    auto len = ReadVarint();
    if (!len.ok()) return len.status();
    if (*len > data_.size() - pos_) return Truncated();
    std::string_view out = data_.substr(pos_, *len);
    pos_ += *len;
    return out;
  }

  Result<Tag> ReadTag() {
    auto key = ReadVarint();
    if (!key.ok()) return key.status();
    uint64_t number = *key >> 3;
    int wire = static_cast<int>(*key & 7);
    if (number == 0 || number > 536870911) return BadRequest("illegal field number " + std::to_string(number));
    if (wire == kStartGroup || wire == kEndGroup) return BadRequest("groups (wire type 3/4) are not supported");
    if (wire > kFixed32) return BadRequest("illegal wire type " + std::to_string(wire));
    return Tag{static_cast<int>(number), wire};
  }

  // Skips the value of a field whose tag was just read.
  Status Skip(int wire) {
    switch (wire) {
      case kVarint: return ReadVarint().status();
      case kFixed64: return ReadFixed(8).status();
      case kFixed32: return ReadFixed(4).status();
      case kLengthDelimited: return ReadLengthDelimited().status();
      default: return BadRequest("illegal wire type " + std::to_string(wire));
    }
  }

 private:
  static Status Truncated() { return BadRequest("unexpected end of data"); }

  std::string_view data_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------- JSON spellings

// Replaces each byte that does not start a valid UTF-8 sequence with U+FFFD, as Go's
// encoding/json does when it prints a string.
std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  auto cont = [&](size_t at, uint8_t lo = 0x80, uint8_t hi = 0xbf) {
    if (at >= s.size()) return false;
    uint8_t c = static_cast<uint8_t>(s[at]);
    return c >= lo && c <= hi;
  };
  while (i < s.size()) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    size_t len = 0;
    if (c < 0x80) len = 1;
    else if (c >= 0xc2 && c <= 0xdf) len = cont(i + 1) ? 2 : 0;
    else if (c >= 0xe0 && c <= 0xef) {
      uint8_t lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;  // no overlongs, no surrogates
      len = cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
    } else if (c >= 0xf0 && c <= 0xf4) {
      uint8_t lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;  // no overlongs, <= U+10FFFF
      len = cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    }
    if (len == 0) {
      out += "\xef\xbf\xbd";
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

// []byte in JSON: standard base64 with padding.
std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

// Seconds since the Unix epoch -> "2024-01-02T03:04:05" (UTC), for years 1..9999.
Result<std::string> FormatUtc(int64_t seconds) {
  constexpr int64_t kMin = -62135596800;  // 0001-01-01T00:00:00Z
  constexpr int64_t kMax = 253402300799;  // 9999-12-31T23:59:59Z
  if (seconds < kMin || seconds > kMax) return BadRequest("time " + std::to_string(seconds) + "s is out of range");
  int64_t days = seconds / 86400, rem = seconds % 86400;
  if (rem < 0) { rem += 86400; --days; }
  // Civil date from a day count, counting in 400-year eras that start on March 1st
  // so that the leap day falls at the end of a year.
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;                                   // day of era [0, 146096]
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // year of era [0, 399]
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);            // day of year from March 1st
  int64_t mp = (5 * doy + 2) / 153;                                 // month from March [0, 11]
  int64_t day = doy - (153 * mp + 2) / 5 + 1;
  int64_t month = mp < 10 ? mp + 3 : mp - 9;
  int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", static_cast<int>(year), static_cast<int>(month),
                static_cast<int>(day), static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60),
                static_cast<int>(rem % 60));
  return std::string(buf);
}

// Writes v / 10^prec's fraction digits (".5", trailing zeros dropped) in front of
// `tail` and returns v / 10^prec. Part of Go's time.Duration.String().
uint64_t PrependFraction(std::string& tail, uint64_t v, int prec) {
  std::string digits;
  bool seen_nonzero = false;
  for (int i = 0; i < prec; ++i) {
    int digit = static_cast<int>(v % 10);
    seen_nonzero = seen_nonzero || digit != 0;
    if (seen_nonzero) digits.insert(digits.begin(), static_cast<char>('0' + digit));
    v /= 10;
  }
  if (seen_nonzero) tail = "." + digits + tail;
  return v;
}

// The spelling of Go's time.Duration.String(): "1h2m3s", "1.5s", "500ms", "0s".
std::string FormatGoDuration(int64_t nanos) {
  if (nanos == 0) return "0s";
  bool negative = nanos < 0;
  uint64_t u = negative ? 0 - static_cast<uint64_t>(nanos) : static_cast<uint64_t>(nanos);
  std::string out;
  if (u < 1000000000) {
    // Below a second Go switches to the largest unit that keeps an integer part.
    int prec = 0;
    std::string unit = "ns";
    if (u >= 1000000) { prec = 6; unit = "ms"; }
    else if (u >= 1000) { prec = 3; unit = "\xc2\xb5s"; }  // µs
    out = unit;
    u = PrependFraction(out, u, prec);
    out = std::to_string(u) + out;
  } else {
    out = "s";
    u = PrependFraction(out, u, 9);  // u is now whole seconds
    out = std::to_string(u % 60) + out;
    u /= 60;
    if (u > 0) {
      out = std::to_string(u % 60) + "m" + out;
      u /= 60;
      if (u > 0) out = std::to_string(u) + "h" + out;
    }
  }
  return negative ? "-" + out : out;
}

// How deeply `text` nests arrays and objects (strings are skipped).
int JsonDepth(std::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

// ---------------------------------------------------------------- small built-in messages

// The last value of each field of a small fixed message (Quantity, Time, ...).
struct FlatField {
  int wire = 0;
  uint64_t number = 0;     // varint and fixed values
  std::string_view bytes;  // length-delimited values
};
using FlatMessage = std::map<int, FlatField>;

Result<FlatMessage> ReadFlat(std::string_view data) {
  FlatMessage out;
  WireReader r(data);
  while (!r.AtEnd()) {
    auto tag = r.ReadTag();
    if (!tag.ok()) return tag.status();
    FlatField f;
    f.wire = tag->wire;
    if (tag->wire == kLengthDelimited) {
      auto b = r.ReadLengthDelimited();
      if (!b.ok()) return b.status();
      f.bytes = *b;
    } else {
      auto v = tag->wire == kVarint ? r.ReadVarint() : r.ReadFixed(tag->wire == kFixed64 ? 8 : 4);
      if (!v.ok()) return v.status();
      f.number = *v;
    }
    out[tag->number] = f;
  }
  return out;
}

Status WrongWire(int got, int want) {
  return BadRequest(std::string("wire type ") + WireName(got) + ", want " + WireName(want));
}

std::string FieldNumber(int number) { return "field " + std::to_string(number); }

// A varint field of a flat message; 0 when absent.
Result<uint64_t> FlatVarint(const FlatMessage& m, int number) {
  auto it = m.find(number);
  if (it == m.end()) return uint64_t{0};
  if (it->second.wire != kVarint) return WrongWire(it->second.wire, kVarint).Wrap(FieldNumber(number));
  return it->second.number;
}

// A length-delimited field of a flat message; nullopt when absent.
Result<std::optional<std::string_view>> FlatBytes(const FlatMessage& m, int number) {
  auto it = m.find(number);
  if (it == m.end()) return std::optional<std::string_view>();
  if (it->second.wire != kLengthDelimited) {
    return WrongWire(it->second.wire, kLengthDelimited).Wrap(FieldNumber(number));
  }
  return std::optional<std::string_view>(it->second.bytes);
}

// Decodes the message form of a built-in value (api/schema/README.md, "Types").
// Returns a null Json for "no value" (zero Time, empty raw JSON).
Result<Json> DecodeBuiltin(ValueKind kind, std::string_view data, int depth_left) {
  auto m = ReadFlat(data);
  if (!m.ok()) return m.status();
  switch (kind) {
    case ValueKind::kQuantity: {  // {1: string}; a missing string is the zero quantity
      auto s = FlatBytes(*m, 1);
      if (!s.ok()) return s.status();
      return Json(s->has_value() ? SanitizeUtf8(**s) : std::string("0"));
    }
    case ValueKind::kIntOrString: {  // {1: type, 2: intVal, 3: strVal}
      auto type = FlatVarint(*m, 1);
      auto int_val = FlatVarint(*m, 2);
      auto str_val = FlatBytes(*m, 3);
      if (!type.ok()) return type.status();
      if (!int_val.ok()) return int_val.status();
      if (!str_val.ok()) return str_val.status();
      if (*type == 0) return Json(static_cast<int32_t>(static_cast<uint32_t>(*int_val)));
      return Json(SanitizeUtf8(str_val->value_or("")));
    }
    case ValueKind::kTime:
    case ValueKind::kMicroTime: {  // {1: seconds, 2: nanos}; empty = the zero time
      if (data.empty()) return Json();
      auto seconds = FlatVarint(*m, 1);
      auto nanos = FlatVarint(*m, 2);
      if (!seconds.ok()) return seconds.status();
      if (!nanos.ok()) return nanos.status();
      int64_t sec = static_cast<int64_t>(*seconds);
      if (kind == ValueKind::kTime) {  // Time keeps whole seconds only, as upstream
        auto s = FormatUtc(sec);
        if (!s.ok()) return s.status();
        return Json(*s + "Z");
      }
      int64_t ns = static_cast<int32_t>(static_cast<uint32_t>(*nanos));
      ns -= ns % 1000;  // MicroTime keeps microseconds
      sec += ns / 1000000000;
      ns %= 1000000000;
      if (ns < 0) { ns += 1000000000; --sec; }
      auto s = FormatUtc(sec);
      if (!s.ok()) return s.status();
      char micros[16];
      std::snprintf(micros, sizeof micros, ".%06dZ", static_cast<int>(ns / 1000));
      return Json(*s + micros);
    }
    case ValueKind::kDuration: {  // {1: nanoseconds}
      auto nanos = FlatVarint(*m, 1);
      if (!nanos.ok()) return nanos.status();
      return Json(FormatGoDuration(static_cast<int64_t>(*nanos)));
    }
    case ValueKind::kRawExtension:
    case ValueKind::kAny: {  // {1: raw JSON bytes}
      auto raw = FlatBytes(*m, 1);
      if (!raw.ok()) return raw.status();
      if (!raw->has_value() || (*raw)->empty()) return Json();
      if (JsonDepth(**raw) > depth_left) return BadRequest("embedded JSON nests too deeply");
      Json parsed = Json::parse(**raw, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_discarded()) return BadRequest("embedded raw value is not JSON");
      return parsed;
    }
    default:
      return Internal("not a built-in message kind: " + std::to_string(static_cast<int>(kind)));
  }
}

// ---------------------------------------------------------------- schema-driven messages

// Go's omitempty: which decoded scalars count as "not set".
bool IsZeroScalar(const Json& v) {
  if (v.is_string()) return v.get_ref<const std::string&>().empty();
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_number()) return v.get<double>() == 0;
  return false;
}

bool IsOmitEmptyKind(ValueKind k) {
  return k == ValueKind::kString || k == ValueKind::kBytes || k == ValueKind::kBool || k == ValueKind::kInt32 ||
         k == ValueKind::kInt64 || k == ValueKind::kDouble;
}

// The wire type a value of kind k is written with when not packed.
int NaturalWire(ValueKind k) {
  switch (k) {
    case ValueKind::kBool:
    case ValueKind::kInt32:
    case ValueKind::kInt64: return kVarint;
    case ValueKind::kDouble: return kFixed64;
    default: return kLengthDelimited;
  }
}

// The JSON value of a map entry whose value is missing.
Json ZeroValue(const TypeRef& t) {
  switch (t.kind) {
    case ValueKind::kBool: return false;
    case ValueKind::kInt32:
    case ValueKind::kInt64:
    case ValueKind::kIntOrString: return 0;
    case ValueKind::kDouble: return 0.0;
    case ValueKind::kQuantity: return "0";
    case ValueKind::kDuration: return "0s";
    case ValueKind::kObject: return Json::object();
    case ValueKind::kList: return Json::array();
    case ValueKind::kMap: return Json::object();
    case ValueKind::kTime:
    case ValueKind::kMicroTime:
    case ValueKind::kRawExtension:
    case ValueKind::kAny: return Json();
    default: return "";
  }
}

std::string Join(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

class Decoder {
 public:
  explicit Decoder(std::vector<UnknownProtobufField>* unknown) : unknown_(unknown) {}

  // Decodes the fields of `type` found in `data` into obj, merging with what obj holds
  // (protobuf merges repeated occurrences of a message). inline_group > 0 decodes the
  // embedded message of that outer number, whose fields carry inline=inline_group.
  Status DecodeMessage(std::string_view data, const TypeSchema& type, Json& obj, const std::string& path, int depth,
                       int inline_group = 0) {
    if (depth > kMaxDepth) return BadRequest(Where(path) + "nesting deeper than " + std::to_string(kMaxDepth));
    WireReader r(data);
    while (!r.AtEnd()) {
      auto tag = r.ReadTag();
      if (!tag.ok()) return std::move(tag.status()).Wrap(Where(path, false));
      if (inline_group == 0 && HasInlineGroup(type, tag->number)) {
        auto payload = ReadPayload(r, *tag, Join(path, "<inline " + std::to_string(tag->number) + ">"));
        if (!payload.ok()) return payload.status();
        KUBES_RETURN_IF_ERROR(DecodeMessage(*payload, type, obj, path, depth + 1, tag->number));
        continue;
      }
      const FieldSchema* field = FindField(type, tag->number, inline_group);
      if (field == nullptr) {
        Report(path, tag->number);
        if (auto s = r.Skip(tag->wire); !s.ok()) return std::move(s).Wrap(Where(path, false));
        continue;
      }
      KUBES_RETURN_IF_ERROR(DecodeField(r, tag->wire, *field, obj, Join(path, field->name), depth));
    }
    return Status::OK();
  }

 private:
  static std::string Where(const std::string& path, bool colon = true) {
    std::string p = path.empty() ? "<object>" : path;
    return colon ? p + ": " : p;
  }

  static bool HasInlineGroup(const TypeSchema& type, int number) {
    for (const auto& f : type.fields) {
      if (f.inline_proto == number) return true;
    }
    return false;
  }

  static const FieldSchema* FindField(const TypeSchema& type, int number, int inline_group) {
    for (const auto& f : type.fields) {
      if (f.proto == number && f.inline_proto == inline_group) return &f;
    }
    return nullptr;
  }

  void Report(const std::string& path, int number) {
    if (unknown_ == nullptr || unknown_->size() >= kMaxReportedUnknownFields) return;
    for (const auto& u : *unknown_) {
      if (u.number == number && u.path == path) return;
    }
    unknown_->push_back({path, number});
  }

  static Result<std::string_view> ReadPayload(WireReader& r, Tag tag, const std::string& path) {
    if (tag.wire != kLengthDelimited) return WrongWire(tag.wire, kLengthDelimited).Wrap(path);
    auto payload = r.ReadLengthDelimited();
    if (!payload.ok()) return std::move(payload.status()).Wrap(path);
    return payload;
  }

  // One occurrence of a known field: lists append, maps add an entry, messages merge,
  // scalars replace (the last occurrence wins, as in protobuf).
  Status DecodeField(WireReader& r, int wire, const FieldSchema& f, Json& obj, const std::string& path, int depth) {
    switch (f.type.kind) {
      case ValueKind::kList: return DecodeListItems(r, wire, *f.type.elem, obj[f.name], path, depth);
      case ValueKind::kMap: {
        auto entry = ReadPayload(r, Tag{f.proto, wire}, path);
        if (!entry.ok()) return entry.status();
        return DecodeMapEntry(*entry, *f.type.elem, obj[f.name], path, depth);
      }
      default: break;
    }
    auto existing = obj.find(f.name);
    Json* merge_into = existing != obj.end() ? &*existing : nullptr;
    auto v = DecodeValue(r, wire, f.type, path, depth, merge_into);
    if (!v.ok()) return v.status();
    bool omit = v->is_null() || (!f.ptr && IsOmitEmptyKind(f.type.kind) && IsZeroScalar(*v));
    if (omit) obj.erase(f.name);
    else obj[f.name] = std::move(v).value();
    return Status::OK();
  }

  // Appends one element, or several when a numeric list arrives packed.
  Status DecodeListItems(WireReader& r, int wire, const TypeRef& elem, Json& list, const std::string& path, int depth) {
    if (!list.is_array()) list = Json::array();
    int natural = NaturalWire(elem.kind);
    if (wire == kLengthDelimited && natural != kLengthDelimited) {
      auto packed = r.ReadLengthDelimited();
      if (!packed.ok()) return std::move(packed.status()).Wrap(path);
      WireReader items(*packed);
      while (!items.AtEnd()) {
        auto v = DecodeValue(items, natural, elem, path + "[" + std::to_string(list.size()) + "]", depth, nullptr);
        if (!v.ok()) return v.status();
        list.push_back(std::move(v).value());
      }
      return Status::OK();
    }
    auto v = DecodeValue(r, wire, elem, path + "[" + std::to_string(list.size()) + "]", depth, nullptr);
    if (!v.ok()) return v.status();
    list.push_back(std::move(v).value());
    return Status::OK();
  }

  // A map entry message {1: key, 2: value}.
  Status DecodeMapEntry(std::string_view data, const TypeRef& elem, Json& map, const std::string& path, int depth) {
    if (!map.is_object()) map = Json::object();
    if (depth + 1 > kMaxDepth) return BadRequest(Where(path) + "nesting deeper than " + std::to_string(kMaxDepth));
    WireReader r(data);
    std::string key;
    std::optional<Json> value;
    while (!r.AtEnd()) {
      auto tag = r.ReadTag();
      if (!tag.ok()) return std::move(tag.status()).Wrap(path);
      if (tag->number == 1) {
        auto k = ReadPayload(r, *tag, path);
        if (!k.ok()) return k.status();
        key = SanitizeUtf8(*k);
      } else if (tag->number == 2) {
        // The key may come after the value, so the value's path has no key in it.
        auto v = DecodeValue(r, tag->wire, elem, path + "[]", depth + 1, value ? &*value : nullptr);
        if (!v.ok()) return v.status();
        value = std::move(v).value();
      } else {
        Report(path, tag->number);
        if (auto s = r.Skip(tag->wire); !s.ok()) return std::move(s).Wrap(path);
      }
    }
    map[key] = value ? std::move(*value) : ZeroValue(elem);
    return Status::OK();
  }

  // Reads one value of type t written with `wire`. merge_into, when not null, is the
  // value an earlier occurrence of the same message field produced.
  Result<Json> DecodeValue(WireReader& r, int wire, const TypeRef& t, const std::string& path, int depth,
                           Json* merge_into) {
    int want = NaturalWire(t.kind);
    if (wire != want) return WrongWire(wire, want).Wrap(path);
    switch (t.kind) {
      case ValueKind::kBool:
      case ValueKind::kInt32:
      case ValueKind::kInt64: {
        auto v = r.ReadVarint();
        if (!v.ok()) return std::move(v.status()).Wrap(path);
        if (t.kind == ValueKind::kBool) return Json(*v != 0);
        // A negative int32 is sent as a 10-byte varint; its low 32 bits are the value.
        if (t.kind == ValueKind::kInt32) return Json(static_cast<int32_t>(static_cast<uint32_t>(*v)));
        return Json(static_cast<int64_t>(*v));
      }
      case ValueKind::kDouble: {
        auto v = r.ReadFixed(8);
        if (!v.ok()) return std::move(v.status()).Wrap(path);
        double d = std::bit_cast<double>(*v);
        if (!std::isfinite(d)) return BadRequest(path + ": number is not finite");
        return Json(d);
      }
      default: break;
    }
    auto payload = r.ReadLengthDelimited();
    if (!payload.ok()) return std::move(payload.status()).Wrap(path);
    switch (t.kind) {
      case ValueKind::kString: return Json(SanitizeUtf8(*payload));
      case ValueKind::kBytes: return Json(Base64(*payload));
      case ValueKind::kObject: {
        if (t.object == nullptr) return Internal(path + ": type " + t.name + " is not resolved");
        Json obj = merge_into != nullptr && merge_into->is_object() ? std::move(*merge_into) : Json::object();
        KUBES_RETURN_IF_ERROR(DecodeMessage(*payload, *t.object, obj, path, depth + 1));
        return obj;
      }
      case ValueKind::kList:
      case ValueKind::kMap: return DecodeWrapped(*payload, t, path, depth + 1);
      default: {
        auto v = DecodeBuiltin(t.kind, *payload, kMaxDepth - depth);
        if (!v.ok()) return std::move(v.status()).Wrap(path);
        return v;
      }
    }
  }

  // A list or map nested in a list or map travels in a wrapper message whose field 1
  // holds the items, as go-to-protobuf writes named slice types (ExtraValue).
  Result<Json> DecodeWrapped(std::string_view data, const TypeRef& t, const std::string& path, int depth) {
    if (depth > kMaxDepth) return BadRequest(Where(path) + "nesting deeper than " + std::to_string(kMaxDepth));
    Json holder = Json::object();
    WireReader r(data);
    while (!r.AtEnd()) {
      auto tag = r.ReadTag();
      if (!tag.ok()) return std::move(tag.status()).Wrap(path);
      if (tag->number != 1) {
        Report(path, tag->number);
        if (auto s = r.Skip(tag->wire); !s.ok()) return std::move(s).Wrap(path);
        continue;
      }
      if (t.kind == ValueKind::kList) {
        KUBES_RETURN_IF_ERROR(DecodeListItems(r, tag->wire, *t.elem, holder["items"], path, depth));
      } else {
        auto entry = ReadPayload(r, *tag, path);
        if (!entry.ok()) return entry.status();
        KUBES_RETURN_IF_ERROR(DecodeMapEntry(*entry, *t.elem, holder["items"], path, depth));
      }
    }
    auto it = holder.find("items");
    return it != holder.end() ? std::move(*it) : ZeroValue(t);
  }

  std::vector<UnknownProtobufField>* unknown_;
};

// The runtime.Unknown envelope: {1: typeMeta {1: apiVersion, 2: kind}, 2: raw,
// 3: contentEncoding, 4: contentType}. Upstream ignores the last two when decoding.
struct Envelope {
  std::string api_version;
  std::string kind;
  std::string_view raw;
};

Result<Envelope> ReadEnvelope(std::string_view data) {
  Envelope env;
  WireReader r(data);
  while (!r.AtEnd()) {
    auto tag = r.ReadTag();
    if (!tag.ok()) return tag.status();
    if (tag->number != 1 && tag->number != 2) {
      KUBES_RETURN_IF_ERROR(r.Skip(tag->wire));
      continue;
    }
    if (tag->wire != kLengthDelimited) return WrongWire(tag->wire, kLengthDelimited).Wrap(FieldNumber(tag->number));
    auto payload = r.ReadLengthDelimited();
    if (!payload.ok()) return payload.status();
    if (tag->number == 2) {
      env.raw = *payload;
      continue;
    }
    auto type_meta = ReadFlat(*payload);
    if (!type_meta.ok()) return std::move(type_meta.status()).Wrap("typeMeta");
    auto api_version = FlatBytes(*type_meta, 1);
    auto kind = FlatBytes(*type_meta, 2);
    if (!api_version.ok()) return std::move(api_version.status()).Wrap("typeMeta");
    if (!kind.ok()) return std::move(kind.status()).Wrap("typeMeta");
    if (api_version->has_value()) env.api_version = SanitizeUtf8(**api_version);
    if (kind->has_value()) env.kind = SanitizeUtf8(**kind);
  }
  return env;
}

// Turns whatever a library throws (allocation failure, a nlohmann type error that
// would be a bug here) into a Status so nothing escapes this module.
template <typename F>
Result<Json> Guarded(F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return Internal(std::string("protobuf decoding: ") + e.what());
  }
}

}  // namespace

Result<Json> DecodeProtobufMessage(std::string_view raw, const TypeSchema& type,
                                   std::vector<UnknownProtobufField>* unknown_fields) {
  return Guarded([&]() -> Result<Json> {
    Json obj = Json::object();
    Decoder decoder(unknown_fields);
    if (auto s = decoder.DecodeMessage(raw, type, obj, "", 0); !s.ok()) {
      return std::move(s).Wrap("decoding protobuf " + type.name);
    }
    return obj;
  });
}

Result<Json> DecodeProtobufObject(std::string_view body, const SchemaRegistry& reg,
                                  std::vector<UnknownProtobufField>* unknown_fields) {
  if (body.empty()) return BadRequest("empty data");
  if (!body.starts_with(kProtobufMagic)) {
    return BadRequest("provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]");
  }
  if (body.size() == kProtobufMagic.size()) return BadRequest("empty body");
  auto env = ReadEnvelope(body.substr(kProtobufMagic.size()));
  if (!env.ok()) return std::move(env.status()).Wrap("decoding protobuf envelope");
  if (env->kind.empty()) return BadRequest("Object 'Kind' is missing in protobuf envelope");
  if (env->api_version.empty()) return BadRequest("Object 'apiVersion' is missing in protobuf envelope");

  std::string_view group, version = env->api_version;
  if (auto slash = version.find('/'); slash != std::string_view::npos) {
    group = version.substr(0, slash);
    version = version.substr(slash + 1);
  }
  const TypeSchema* type = reg.FindKind(group, version, env->kind);
  if (type == nullptr) {
    return BadRequest("no kind \"" + env->kind + "\" is registered for version \"" + env->api_version + "\"");
  }
  auto obj = DecodeProtobufMessage(env->raw, *type, unknown_fields);
  if (!obj.ok()) return obj;
  return Guarded([&]() -> Result<Json> {
    (*obj)["apiVersion"] = env->api_version;
    (*obj)["kind"] = env->kind;
    return std::move(obj).value();
  });
}

}  // namespace kubes::api
