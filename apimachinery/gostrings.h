// Go string helpers shared by apimachinery/labels and apimachinery/fields.
//
// Kubernetes error messages are produced by Go's fmt and strconv packages, and clients
// (and the people reading kubectl output) see them verbatim. To say the same thing
// byte for byte we need Go's view of a string: a sequence of UTF-8 runes where each
// invalid byte decodes on its own as U+FFFD (unicode/utf8.DecodeRuneInString), and
// Go's quoting of a string for `%q` (strconv.Quote).
//
// Header-only; every function is pure and therefore thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kubes::gostrings {

inline constexpr char32_t kRuneError = 0xFFFD;

struct DecodedRune {
  char32_t rune;
  size_t size;  // bytes consumed: 1..4, or 0 for an empty input
};

// Decodes the first rune of s the way Go does: an invalid or truncated sequence,
// an overlong form, a surrogate or a value past U+10FFFF yields {kRuneError, 1}.
inline DecodedRune DecodeRune(std::string_view s) {
  if (s.empty()) return {kRuneError, 0};
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return {b0, 1};
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  char32_t r;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2, r = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3, r = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4, r = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // no overlong forms
    if (b0 == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    return {kRuneError, 1};
  }
  if (s.size() < n) return {kRuneError, 1};
  for (size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    const unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
    if (b < min || b > max) return {kRuneError, 1};
    r = (r << 6) | (b & 0x3F);
  }
  return {r, n};
}

// Appends the UTF-8 encoding of r (which must be a valid code point).
inline void AppendRune(std::string& out, char32_t r) {
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

// Whether Go's strconv.Quote prints r as itself. Go consults the full Unicode tables
// (unicode.IsPrint); this covers ASCII exactly and, beyond it, the control, format,
// separator and private-use ranges. Unassigned code points are printed as themselves.
inline bool IsPrint(char32_t r) {
  if (r < 0x80) return r >= 0x20 && r < 0x7F;
  if (r <= 0xA0 || r == 0xAD) return false;  // C1 controls, no-break space, soft hyphen
  if ((r >= 0x600 && r <= 0x605) || r == 0x61C || r == 0x6DD || r == 0x70F || r == 0x180E) return false;
  if (r == 0x1680 || (r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F)) return false;
  if ((r >= 0x205F && r <= 0x206F) || r == 0x3000 || r == 0xFEFF) return false;
  if ((r >= 0xE000 && r <= 0xF8FF) || (r >= 0xFFF9 && r <= 0xFFFB) || r == 0xFFFE || r == 0xFFFF) return false;
  if ((r >= 0xE0000 && r <= 0xE007F) || r >= 0xF0000) return false;
  return true;
}

// Go's strconv.Quote (what fmt prints for %q of a string): double quotes, with
// backslash escapes for quotes, backslashes, control characters, invalid bytes
// (\xNN) and non-printable runes (\uNNNN, \UNNNNNNNN).
inline std::string Quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto hex = [](std::string& out, unsigned long v, int digits) {
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += kHex[(v >> shift) & 0xF];
  };
  std::string out = "\"";
  while (!s.empty()) {
    const DecodedRune d = DecodeRune(s);
    const char32_t r = d.rune;
    if (r == kRuneError && d.size == 1) {
      out += "\\x";
      hex(out, static_cast<unsigned char>(s[0]), 2);
    } else if (r == '"' || r == '\\') {
      out += '\\';
      out += static_cast<char>(r);
    } else if (IsPrint(r)) {
      out.append(s.substr(0, d.size));
    } else {
      switch (r) {
        case '\a': out += "\\a"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\v': out += "\\v"; break;
        default:
          if (r < ' ' || r == 0x7F) {
            out += "\\x", hex(out, r, 2);
          } else if (r < 0x10000) {
            out += "\\u", hex(out, r, 4);
          } else {
            out += "\\U", hex(out, r, 8);
          }
      }
    }
    s.remove_prefix(d.size);
  }
  out += '"';
  return out;
}

}  // namespace kubes::gostrings
