#include "apiserver/crd/formats.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <regex>

namespace kubes::crd {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool In(const char* set, char c) { return c != '\0' && std::strchr(set, c) != nullptr; }

std::string Normalize(std::string_view f) {
  std::string out;
  for (char c : f) {
    if (c != '-') out += c;
  }
  return out;
}

// std::regex in linear-time mode, compiled once per pattern by the static callers.
std::regex Re(const std::string& pattern) {
  auto flags = std::regex::ECMAScript;
#if defined(__GLIBCXX__)
  flags |= std::regex_constants::__polynomial;
#endif
  return std::regex(pattern, flags);
}

// strconv.Atoi's range: at most int64 max, leading zeros allowed.
bool FitsInt64(std::string_view digits) {
  while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
  return digits.size() < 19 || (digits.size() == 19 && digits <= "9223372036854775807");
}

// Go's dtoi: leading decimal digits, failing past 0xFFFFFF.
bool Dtoi(std::string_view s, int* n, size_t* used) {
  *n = 0;
  size_t i = 0;
  for (; i < s.size() && IsDigit(s[i]); ++i) {
    *n = *n * 10 + (s[i] - '0');
    if (*n >= 0xFFFFFF) return false;
  }
  *used = i;
  return i > 0;
}

// k8s.io/utils/net's parseIPv4: four decimal parts, leading zeros allowed.
bool ParseIPv4Sloppy(std::string_view s) {
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (s.empty() || s[0] != '.') return false;
      s.remove_prefix(1);
    }
    int n;
    size_t used;
    if (!Dtoi(s, &n, &used) || n > 0xFF) return false;
    s.remove_prefix(used);
  }
  return s.empty();
}

bool ParseIPv6(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// ParseIPSloppy decides by the first '.' or ':' it meets.
bool ParseIPSloppy(const std::string& s) {
  for (char c : s) {
    if (c == '.') return ParseIPv4Sloppy(s);
    if (c == ':') return ParseIPv6(s);
  }
  return false;
}

bool IsMAC(const std::string& s) {  // net.ParseMAC
  if (s.size() < 14) return false;
  const size_t size = s.size() + 1;
  auto groups = [&](size_t width, char sep, size_t n) {
    for (size_t g = 0, x = 0; g < n; ++g, x += width + 1) {
      for (size_t k = 0; k < width; ++k) {
        if (!IsHex(s[x + k])) return false;
      }
      if (x + width < s.size() && s[x + width] != sep) return false;
    }
    return true;
  };
  if (s[2] == ':' || s[2] == '-') {
    const size_t n = size / 3;
    return size % 3 == 0 && (n == 6 || n == 8 || n == 20) && groups(2, s[2], n);
  }
  if (s[4] == '.') {
    const size_t n = 2 * size / 5;
    return size % 5 == 0 && (n == 6 || n == 8 || n == 20) && groups(4, '.', n / 2);
  }
  return false;
}

// strfmt's UUID patterns: 8-4-4-4-12 hex digits, each hyphen optional, any case.
// version is 0 for any, or the digit the third group must start with.
bool IsUUID(const std::string& s, char version) {
  static constexpr std::array<size_t, 5> kGroups = {8, 4, 4, 4, 12};
  size_t i = 0;
  for (size_t g = 0; g < kGroups.size(); ++g) {
    if (g > 0 && i < s.size() && s[i] == '-') ++i;
    if (i + kGroups[g] > s.size()) return false;
    for (size_t k = 0; k < kGroups[g]; ++k) {
      if (!IsHex(s[i + k])) return false;
    }
    if (version && g == 2 && s[i] != version) return false;
    if ((version == '4' || version == '5') && g == 3 && !In("89abAB", s[i])) return false;
    i += kGroups[g];
  }
  return i == s.size();
}

bool IsBase64(const std::string& s) {  // govalidator's Base64 pattern
  if (s.empty() || s.size() % 4 != 0) return false;
  size_t pad = 0;
  if (s.back() == '=') pad = s[s.size() - 2] == '=' ? 2 : 1;
  for (size_t i = 0; i < s.size() - pad; ++i) {
    const char c = s[i];
    if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '/') return false;
  }
  return true;
}

// strfmt.IsHostname. Go's pattern allows Unicode letters and symbols (\p{L}, \p{S});
// here every non-ASCII rune counts as a letter.
bool IsHostname(const std::string& s) {
  if (s.size() > 255) return false;
  std::string mapped;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      mapped += s[i];
    } else if ((b & 0xC0) != 0x80) {
      mapped += 'a';  // the first byte of a multi-byte rune stands for the rune
    }
  }
  static const std::regex kPattern =
      Re("(?:[a-zA-Z0-9$+<=>^`|~](?:-?[a-zA-Z0-9$+<=>^`|~]{0,62})?)|"
         "(?:(?:[a-zA-Z0-9$+<=>^`|~](?:[a-zA-Z0-9$+<=>^`|~-]{0,61}[a-zA-Z0-9$+<=>^`|~])?)\\.)+[a-zA-Z]{2,63}");
  if (!std::regex_match(mapped, kPattern)) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    if ((dot == std::string::npos ? s.size() : dot) - start > 63) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

bool IsAtext(char c) {
  return IsAlpha(c) || IsDigit(c) || In("!#$%&'*+-/=?^_`{|}~", c) || static_cast<unsigned char>(c) >= 0x80;
}

bool IsDotAtom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.' ? (s[i + 1] == '.') : !IsAtext(s[i])) return false;
  }
  return true;
}

// net/mail.ParseAddress, for the forms people write: "a@b.c" and "Name <a@b.c>".
// Comments, obsolete syntax and encoded words are not accepted.
bool IsEmail(const std::string& in) {
  std::string_view s = in;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (const size_t lt = s.find('<'); lt != std::string_view::npos) {
    if (s.back() != '>') return false;
    s = s.substr(lt + 1, s.size() - lt - 2);
  }
  const size_t at = s.rfind('@');
  if (at == std::string_view::npos) return false;
  std::string_view local = s.substr(0, at), domain = s.substr(at + 1);
  const bool quoted = local.size() >= 2 && local.front() == '"' && local.back() == '"';
  if (!quoted && !IsDotAtom(local)) return false;
  if (domain.size() >= 2 && domain.front() == '[' && domain.back() == ']') return true;
  return IsDotAtom(domain);
}

bool ValidEscapes(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && (i + 2 >= s.size() || !IsHex(s[i + 1]) || !IsHex(s[i + 2]))) return false;
  }
  return true;
}

// net/url.ParseRequestURI: an absolute URI or an absolute path. Host names are checked
// for characters Go refuses, ports for digits; IPv6 literals are only bracket-matched.
bool IsRequestURI(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7F) return false;
  }
  if (s == "*") return true;
  std::string_view rest = s, scheme;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (IsAlpha(c)) continue;
    if (IsDigit(c) || c == '+' || c == '-' || c == '.') {
      if (i == 0) break;
      continue;
    }
    if (c == ':') {
      if (i == 0) return false;  // missing protocol scheme
      scheme = rest.substr(0, i);
      rest.remove_prefix(i + 1);
    }
    break;
  }
  rest = rest.substr(0, rest.find('?'));
  if (rest.empty() || rest[0] != '/') return !scheme.empty();  // opaque, or a relative path
  if (!scheme.empty() && rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    const size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    if (const size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
    std::string_view host = authority, port;
    if (!host.empty() && host[0] == '[') {
      const size_t close = host.find(']');
      if (close == std::string_view::npos) return false;
      port = host.substr(close + 1);
      host = {};
      if (!port.empty() && port[0] != ':') return false;
    } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
      port = host.substr(colon);
      host = host.substr(0, colon);
    }
    for (char c : host) {
      const bool allowed =
          IsAlpha(c) || IsDigit(c) || In("-._~!$&'()*+,;=%\"<>", c) || static_cast<unsigned char>(c) >= 0x80;
      if (!allowed) return false;
    }
    if (!port.empty() && !std::all_of(port.begin() + 1, port.end(), IsDigit)) return false;
    if (!ValidEscapes(authority)) return false;
  }
  return ValidEscapes(rest);
}

bool IsISBN(const std::string& in, int version) {  // govalidator.IsISBN
  std::string s;
  for (char c : in) {
    if (c != '-' && !In(" \t\n\f\r\v", c)) s += c;
  }
  if (version == 10) {
    if (s.size() != 10 || !std::all_of(s.begin(), s.begin() + 9, IsDigit) || !(IsDigit(s[9]) || s[9] == 'X'))
      return false;
    int sum = 0;
    for (int i = 0; i < 9; ++i) sum += (i + 1) * (s[i] - '0');
    sum += 10 * (s[9] == 'X' ? 10 : s[9] - '0');
    return sum % 11 == 0;
  }
  if (version == 13) {
    if (s.size() != 13 || !std::all_of(s.begin(), s.end(), IsDigit)) return false;
    int sum = 0;
    for (int i = 0; i < 12; ++i) sum += (i % 2 ? 3 : 1) * (s[i] - '0');
    return (s[12] - '0') == (10 - sum % 10) % 10;
  }
  return IsISBN(in, 10) || IsISBN(in, 13);
}

bool IsCreditCard(const std::string& in) {  // govalidator.IsCreditCard
  std::string d;
  for (char c : in) {
    if (IsDigit(c)) d += c;
  }
  static const std::regex kCard =
      Re("4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|"
         "3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\\d{3})\\d{11}");
  if (d.size() > 19 || !std::regex_match(d, kCard)) return false;
  int sum = 0;
  bool dbl = false;
  for (size_t i = d.size(); i-- > 0; dbl = !dbl) {
    int n = d[i] - '0';
    if (dbl) n = n * 2 >= 10 ? n * 2 % 10 + 1 : n * 2;
    sum += n;
  }
  return sum % 10 == 0;
}

int DaysIn(int month, int year) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

bool IsDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!IsDigit(s[i])) return false;
  }
  const int year = std::stoi(s.substr(0, 4)), month = std::stoi(s.substr(5, 2)), day = std::stoi(s.substr(8, 2));
  return month >= 1 && month <= 12 && day >= 1 && day <= DaysIn(month, year);
}

bool IsDateTime(const std::string& str) {
  if (str.size() < 4) return false;
  std::string lower = str;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  // strings.Split on "t": the date is before the first t, the time between the first and second.
  const size_t t = lower.find('t');
  if (t == std::string::npos || !IsDate(lower.substr(0, t))) return false;
  const std::string time = lower.substr(t + 1, lower.find('t', t + 1) - t - 1);
  static const std::regex kTime = Re("([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))");
  if (!std::regex_match(time, kTime)) return false;
  return time.substr(0, 2) <= "23" && time.substr(3, 2) <= "59" && time.substr(6, 2) <= "59";
}

bool IsDuration(const std::string& in) {
  // time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?unit)+ or "0", within int64 nanoseconds.
  auto go_parse = [](std::string_view s) {
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
    if (s == "0") return true;
    if (s.empty()) return false;
    static const std::pair<const char*, long double> kUnits[] = {{"ns", 1},          {"us", 1e3},  {"\xC2\xB5s", 1e3},
                                                                 {"\xCE\xBCs", 1e3}, {"ms", 1e6},  {"s", 1e9},
                                                                 {"m", 6e10},        {"h", 3.6e12}};
    long double total = 0;
    while (!s.empty()) {
      size_t i = 0, digits = 0;
      long double value = 0, scale = 1;
      for (; i < s.size() && IsDigit(s[i]); ++i, ++digits) value = value * 10 + (s[i] - '0');
      if (i < s.size() && s[i] == '.') {
        for (++i; i < s.size() && IsDigit(s[i]); ++i, ++digits) value += (s[i] - '0') * (scale /= 10);
      }
      if (digits == 0) return false;
      size_t j = i;
      while (j < s.size() && s[j] != '.' && !IsDigit(s[j])) ++j;
      const std::string_view unit = s.substr(i, j - i);
      const auto* u =
          std::find_if(std::begin(kUnits), std::end(kUnits), [&](const auto& k) { return unit == k.first; });
      if (u == std::end(kUnits)) return false;
      total += value * u->second;
      if (total > 9.223372036854775807e18L) return false;
      s.remove_prefix(j);
    }
    return true;
  };
  if (go_parse(in)) return true;
  // strfmt's fallback: any "<digits> <unit>" match with a known unit word.
  static const char* kExact[] = {"ns",  "nano", "us", "\xC2\xB5s", "micro", "ms",  "milli", "s",  "sec", "m",
                                 "min", "h",    "hr", "hour",      "d",     "day", "w",     "wk", "week"};
  static const char* kPrefixes[] = {"nano", "micro", "milli", "sec", "min", "hour", "day", "week"};
  bool ok = false;
  for (size_t i = 0; i < in.size();) {
    if (!IsDigit(in[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < in.size() && IsDigit(in[j])) ++j;
    if (!FitsInt64(std::string_view(in).substr(i, j - i))) return false;  // strconv.Atoi aborts the parse
    size_t k = j;
    while (k < in.size() && In(" \t\n\f\r", in[k])) ++k;
    size_t l = k;
    while (l < in.size() && (IsAlpha(in[l]) || in.compare(l, 2, "\xC2\xB5") == 0)) l += IsAlpha(in[l]) ? 1 : 2;
    if (l == k) {
      i = j;
      continue;
    }
    std::string unit = in.substr(k, l - k);
    std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
    for (const char* u : kExact) ok = ok || unit == u;
    for (const char* p : kPrefixes) ok = ok || unit.rfind(p, 0) == 0;
    i = l;
  }
  return ok;
}

bool IsIPv4(const std::string& s) { return ParseIPSloppy(s) && s.find('.') != std::string::npos; }

bool IsCIDR(const std::string& s) {
  const size_t slash = s.find('/');
  if (slash == std::string::npos) return false;
  const std::string addr = s.substr(0, slash), mask = s.substr(slash + 1);
  int bits = 32;
  if (!ParseIPv4Sloppy(addr)) {
    if (!ParseIPv6(addr)) return false;
    bits = 128;
  }
  int n;
  size_t used;
  return Dtoi(mask, &n, &used) && used == mask.size() && n <= bits;
}

bool IsCheckedFormat(std::string_view format) {
  static const char* kFormats[] = {"bsonobjectid", "uri",    "email",    "hostname",   "ipv4",     "ipv6",
                                   "cidr",         "mac",    "uuid",     "uuid3",      "uuid4",    "uuid5",
                                   "isbn",         "isbn10", "isbn13",   "creditcard", "ssn",      "hexcolor",
                                   "rgbcolor",     "byte",   "password", "date",       "duration", "datetime"};
  const std::string name = Normalize(format);
  return std::any_of(std::begin(kFormats), std::end(kFormats), [&](const char* f) { return name == f; });
}

bool FormatValidates(std::string_view format, const std::string& s) {
  const std::string f = Normalize(format);
  if (f == "password") return true;
  if (f == "date") return IsDate(s);
  if (f == "datetime") return IsDateTime(s);
  if (f == "duration") return IsDuration(s);
  if (f == "byte") return IsBase64(s);
  if (f == "uuid") return IsUUID(s, 0);
  if (f == "uuid3" || f == "uuid4" || f == "uuid5") return IsUUID(s, f.back());
  if (f == "ipv4") return IsIPv4(s);
  if (f == "ipv6") return ParseIPv6(s) && s.find(':') != std::string::npos;
  if (f == "cidr") return IsCIDR(s);
  if (f == "mac") return IsMAC(s);
  if (f == "hostname") return IsHostname(s);
  if (f == "email") return IsEmail(s);
  if (f == "uri") return IsRequestURI(s);
  if (f == "isbn") return IsISBN(s, 0);
  if (f == "isbn10") return IsISBN(s, 10);
  if (f == "isbn13") return IsISBN(s, 13);
  if (f == "creditcard") return IsCreditCard(s);
  if (f == "ssn") {
    static const std::regex kSSN = Re("\\d{3}[- ]?\\d{2}[- ]?\\d{4}");
    return s.size() == 11 && std::regex_match(s, kSSN);
  }
  if (f == "hexcolor") {
    static const std::regex kHex = Re("#?(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})");
    return std::regex_match(s, kHex);
  }
  if (f == "rgbcolor") {
    static const std::string kByte = "\\s*(?:0|[1-9]\\d?|1\\d\\d?|2[0-4]\\d|25[0-5])\\s*";
    static const std::regex kRGB = Re("rgb\\(" + kByte + "," + kByte + "," + kByte + "\\)");
    return std::regex_match(s, kRGB);
  }
  if (f == "bsonobjectid") return s.size() == 24 && std::all_of(s.begin(), s.end(), IsHex);
  return true;
}

}  // namespace kubes::crd
