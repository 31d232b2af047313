#include "controller/cronjob/timezone.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace kubes::controller::cronjob {
namespace {

constexpr int64_t kSecondsPerDay = 86400;
// Offsets beyond a day are nonsense; refusing them keeps every sum below in range.
constexpr int kMaxOffset = 26 * 3600;
// Instants this far out are clamped: no schedule looks past a few years anyway.
constexpr int64_t kMaxInstant = int64_t{1} << 50;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

// Howard Hinnant's days → (year, month, day).
void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

// ---- TZif (RFC 8536) ----

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool Skip(size_t n) {
    if (data_.size() - pos_ < n) return false;
    pos_ += n;
    return true;
  }
  bool Bytes(size_t n, std::string_view* out) {
    if (data_.size() - pos_ < n) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool BigEndian(int width, int64_t* out) {
    std::string_view b;
    if (!Bytes(width, &b)) return false;
    uint64_t v = 0;
    for (unsigned char c : b) v = (v << 8) | c;
    *out = width == 4 ? static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(v))) : static_cast<int64_t>(v);
    return true;
  }
  std::string_view Rest() const { return data_.substr(pos_); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

struct Header {
  char version = 0;
  int64_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
};

bool ReadHeader(Reader& r, Header* h) {
  std::string_view magic;
  if (!r.Bytes(4, &magic) || magic != "TZif") return false;
  std::string_view v;
  if (!r.Bytes(1, &v) || !r.Skip(15)) return false;
  h->version = v[0];
  for (int64_t* n : {&h->isutcnt, &h->isstdcnt, &h->leapcnt, &h->timecnt, &h->typecnt, &h->charcnt}) {
    if (!r.BigEndian(4, n) || *n < 0 || *n > (1 << 20)) return false;
  }
  return true;
}

// ---- POSIX TZ strings (the TZif footer) ----

// A zone name: "<+0330>" or at least three letters.
bool ParsePosixName(std::string_view& s, std::string* out) {
  if (!s.empty() && s[0] == '<') {
    size_t close = s.find('>');
    if (close == std::string_view::npos) return false;
    *out = std::string(s.substr(1, close - 1));
    s.remove_prefix(close + 1);
    return true;
  }
  size_t i = 0;
  while (i < s.size() && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z'))) ++i;
  if (i < 3) return false;
  *out = std::string(s.substr(0, i));
  s.remove_prefix(i);
  return true;
}

bool ParseNumber(std::string_view& s, int min, int max, int* out) {
  size_t i = 0;
  int64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i < 6) v = v * 10 + (s[i++] - '0');
  if (i == 0 || v < min || v > max) return false;
  *out = static_cast<int>(v);
  s.remove_prefix(i);
  return true;
}

// [+-]hh[:mm[:ss]], as seconds (the sign as written).
bool ParsePosixOffset(std::string_view& s, int max_hours, int* out) {
  int sign = 1;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    if (s[0] == '-') sign = -1;
    s.remove_prefix(1);
  }
  int h = 0, m = 0, sec = 0;
  if (!ParseNumber(s, 0, max_hours, &h)) return false;
  if (!s.empty() && s[0] == ':') {
    s.remove_prefix(1);
    if (!ParseNumber(s, 0, 59, &m)) return false;
    if (!s.empty() && s[0] == ':') {
      s.remove_prefix(1);
      if (!ParseNumber(s, 0, 59, &sec)) return false;
    }
  }
  *out = sign * (h * 3600 + m * 60 + sec);
  return true;
}

bool ParsePosixRule(std::string_view& s, Location::Rule* r) {
  if (s.empty()) return false;
  if (s[0] == 'J') {
    s.remove_prefix(1);
    r->kind = Location::Rule::kJulian;
    if (!ParseNumber(s, 1, 365, &r->day)) return false;
  } else if (s[0] == 'M') {
    s.remove_prefix(1);
    r->kind = Location::Rule::kMonthWeekDay;
    if (!ParseNumber(s, 1, 12, &r->month) || s.empty() || s[0] != '.') return false;
    s.remove_prefix(1);
    if (!ParseNumber(s, 1, 5, &r->week) || s.empty() || s[0] != '.') return false;
    s.remove_prefix(1);
    if (!ParseNumber(s, 0, 6, &r->day)) return false;
  } else {
    r->kind = Location::Rule::kDayOfYear;
    if (!ParseNumber(s, 0, 365, &r->day)) return false;
  }
  r->time = 2 * 3600;
  if (!s.empty() && s[0] == '/') {
    s.remove_prefix(1);
    // RFC 8536 allows -167..167 hours here.
    if (!ParsePosixOffset(s, 167, &r->time)) return false;
  }
  return true;
}

bool ParsePosix(std::string_view s, Location::Posix* p) {
  int off = 0;
  if (!ParsePosixName(s, &p->std_name) || !ParsePosixOffset(s, 24, &off)) return false;
  p->std_offset = -off;  // POSIX counts west of UTC as positive
  if (s.empty()) return true;
  p->has_dst = true;
  if (!ParsePosixName(s, &p->dst_name)) return false;
  p->dst_offset = p->std_offset + 3600;
  if (!s.empty() && s[0] != ',' && s[0] != ';') {
    if (!ParsePosixOffset(s, 24, &off)) return false;
    p->dst_offset = -off;
  }
  if (s.empty()) s = ",M3.2.0,M11.1.0";  // POSIX leaves it open; Go (and glibc) assume US rules
  if (s[0] != ',' && s[0] != ';') return false;
  s.remove_prefix(1);
  if (!ParsePosixRule(s, &p->start) || s.empty() || s[0] != ',') return false;
  s.remove_prefix(1);
  return ParsePosixRule(s, &p->end) && s.empty();
}

// Seconds from the start of `year` (UTC) to the instant of rule r, whose time is
// local time at UTC offset `offset`.
int64_t RuleTime(int64_t year, const Location::Rule& r, int offset) {
  int64_t s = 0;
  switch (r.kind) {
    case Location::Rule::kJulian:
      s = (r.day - 1) * kSecondsPerDay;
      if (IsLeapYear(year) && r.day >= 60) s += kSecondsPerDay;
      break;
    case Location::Rule::kDayOfYear:
      s = r.day * kSecondsPerDay;
      break;
    case Location::Rule::kMonthWeekDay: {
      int64_t first = DaysFromCivil(year, r.month, 1);
      int dow = static_cast<int>(FloorMod(first + 4, 7));
      int d = r.day - dow;
      if (d < 0) d += 7;
      for (int i = 1; i < r.week; ++i) {
        if (d + 7 >= DaysInMonth(year, r.month)) break;
        d += 7;
      }
      s = (first - DaysFromCivil(year, 1, 1) + d) * kSecondsPerDay;
      break;
    }
  }
  return s + r.time - offset;
}

std::string ReadFile(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  if (!*ok) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool ValidName(const std::string& name) {
  if (name.empty() || name[0] == '/' || name[0] == '\\') return false;
  return name.find("..") == std::string::npos;
}

}  // namespace

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[(month - 1) % 12];
}

int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::shared_ptr<const Location> Location::UTC() {
  static const std::shared_ptr<const Location> utc = [] {
    std::shared_ptr<Location> l(new Location());
    l->name_ = "UTC";
    l->types_.push_back({0, false, "UTC"});
    return l;
  }();
  return utc;
}

std::shared_ptr<const Location> Location::Local() {
  static const std::shared_ptr<const Location> local = []() -> std::shared_ptr<const Location> {
    const char* tz = std::getenv("TZ");
    std::string path = "/etc/localtime";
    if (tz) {
      std::string name = tz;
      if (!name.empty() && name[0] == ':') name.erase(0, 1);
      if (name.empty() || name == "UTC") return UTC();
      if (name[0] != '/') {
        auto loaded = Load(name);
        return loaded.ok() ? *loaded : UTC();
      }
      path = name;
    }
    bool ok = false;
    std::string data = ReadFile(path, &ok);
    auto parsed = ok ? FromTZif(data, "Local") : Result<std::shared_ptr<const Location>>(NotFound("no local zone"));
    return parsed.ok() ? *parsed : UTC();
  }();
  return local;
}

Result<std::shared_ptr<const Location>> Location::Load(const std::string& name) {
  if (name.empty() || name == "UTC") return UTC();
  if (name == "Local") return Local();
  if (!ValidName(name)) return Invalid("time: invalid location name");
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Location>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  const char* dir = std::getenv("ZONEINFO");
  std::string base = dir && *dir ? dir : "/usr/share/zoneinfo";
  bool ok = false;
  std::string data = ReadFile(base + "/" + name, &ok);
  if (!ok) return NotFound("unknown time zone " + name);
  auto loc = FromTZif(data, name);
  if (!loc.ok()) return loc.status();
  cache[name] = *loc;
  return *loc;
}

Result<std::shared_ptr<const Location>> Location::FromTZif(std::string_view data, const std::string& name) {
  const Status malformed = Invalid("malformed time zone information");
  Reader r(data);
  Header h;
  if (!ReadHeader(r, &h)) return malformed;
  int width = 4;
  if (h.version >= '2') {
    // Skip the 32-bit block; the second header describes 64-bit data.
    int64_t v1 = h.timecnt * 5 + h.typecnt * 6 + h.charcnt + h.leapcnt * 8 + h.isstdcnt + h.isutcnt;
    if (!r.Skip(static_cast<size_t>(v1)) || !ReadHeader(r, &h)) return malformed;
    width = 8;
  }
  if (h.typecnt == 0) return malformed;
  std::shared_ptr<Location> loc(new Location());
  loc->name_ = name;
  std::vector<int64_t> times(h.timecnt);
  for (auto& t : times) {
    if (!r.BigEndian(width, &t)) return malformed;
  }
  std::string_view indexes, types, chars;
  if (!r.Bytes(h.timecnt, &indexes) || !r.Bytes(h.typecnt * 6, &types) || !r.Bytes(h.charcnt, &chars)) return malformed;
  if (!r.Skip(h.leapcnt * (width + 4)) || !r.Skip(h.isstdcnt) || !r.Skip(h.isutcnt)) return malformed;
  for (int64_t i = 0; i < h.typecnt; ++i) {
    Reader t(types.substr(i * 6, 6));
    int64_t off = 0, isdst = 0, abbr = 0;
    (void)t.BigEndian(4, &off);
    (void)t.BigEndian(1, &isdst);
    (void)t.BigEndian(1, &abbr);
    if (off < -kMaxOffset || off > kMaxOffset || abbr < 0 || abbr >= h.charcnt) return malformed;
    std::string_view a = chars.substr(abbr);
    a = a.substr(0, a.find('\0'));
    loc->types_.push_back({static_cast<int>(off), isdst != 0, std::string(a)});
  }
  for (int64_t i = 0; i < h.timecnt; ++i) {
    int type = static_cast<unsigned char>(indexes[i]);
    if (type >= h.typecnt) return malformed;
    if (!loc->transitions_.empty() && times[i] <= loc->transitions_.back().when) return malformed;
    loc->transitions_.push_back({std::clamp(times[i], -kMaxInstant, kMaxInstant), type});
  }
  std::string_view rest = r.Rest();
  if (width == 8 && rest.size() > 2 && rest[0] == '\n' && rest.back() == '\n') {
    std::string_view footer = rest.substr(1, rest.size() - 2);
    if (!footer.empty() && ParsePosix(footer, &loc->posix_)) loc->has_posix_ = true;
  }
  return std::shared_ptr<const Location>(loc);
}

Result<std::shared_ptr<const Location>> Location::FromPosix(std::string_view tz, const std::string& name) {
  std::shared_ptr<Location> loc(new Location());
  loc->name_ = name;
  if (!ParsePosix(tz, &loc->posix_)) return Invalid("malformed POSIX TZ rule " + std::string(tz));
  loc->has_posix_ = true;
  loc->types_.push_back({loc->posix_.std_offset, false, loc->posix_.std_name});
  return std::shared_ptr<const Location>(loc);
}

Location::Zone Location::ZoneOfType(int type, int64_t start, int64_t end) const {
  Zone z = types_[type];
  z.start = start;
  z.end = end;
  return z;
}

// Go's lookupFirstZone: the zone before the first transition.
int Location::FirstZoneType() const {
  bool first_used = std::any_of(transitions_.begin(), transitions_.end(), [](const Transition& t) { return t.type == 0; });
  if (!first_used) return 0;
  if (!transitions_.empty() && types_[transitions_[0].type].is_dst) {
    for (int i = transitions_[0].type - 1; i >= 0; --i) {
      if (!types_[i].is_dst) return i;
    }
  }
  for (size_t i = 0; i < types_.size(); ++i) {
    if (!types_[i].is_dst) return static_cast<int>(i);
  }
  return 0;
}

Location::Zone Location::LookupPosix(int64_t secs, int64_t start) const {
  const Posix& p = posix_;
  if (!p.has_dst) return {p.std_offset, false, p.std_name, start, INT64_MAX};
  int64_t year;
  int m, d;
  CivilFromDays(FloorDiv(secs, kSecondsPerDay), &year, &m, &d);
  int64_t year_start = DaysFromCivil(year, 1, 1) * kSecondsPerDay;
  int64_t ysec = secs - year_start;
  int64_t dst_start = RuleTime(year, p.start, p.std_offset);
  int64_t dst_end = RuleTime(year, p.end, p.dst_offset);
  Zone std_zone{p.std_offset, false, p.std_name};
  Zone dst_zone{p.dst_offset, true, p.dst_name};
  if (dst_end < dst_start) {  // southern hemisphere: "DST" spans the new year
    std::swap(dst_start, dst_end);
    std::swap(std_zone, dst_zone);
  }
  Zone z;
  if (ysec < dst_start) {
    z = std_zone;
    z.start = year_start;
    z.end = year_start + dst_start;
  } else if (ysec >= dst_end) {
    z = std_zone;
    z.start = year_start + dst_end;
    z.end = year_start + 365 * kSecondsPerDay;
  } else {
    z = dst_zone;
    z.start = year_start + dst_start;
    z.end = year_start + dst_end;
  }
  return z;
}

Location::Zone Location::Lookup(int64_t secs) const {
  secs = std::clamp(secs, -kMaxInstant, kMaxInstant);
  if (transitions_.empty()) {
    if (has_posix_) return LookupPosix(secs, INT64_MIN);
    return ZoneOfType(0, INT64_MIN, INT64_MAX);
  }
  if (secs < transitions_[0].when) return ZoneOfType(FirstZoneType(), INT64_MIN, transitions_[0].when);
  // The last transition at or before secs.
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), secs,
                             [](int64_t t, const Transition& tr) { return t < tr.when; });
  --it;
  int64_t end = std::next(it) == transitions_.end() ? INT64_MAX : std::next(it)->when;
  if (std::next(it) == transitions_.end() && has_posix_) return LookupPosix(secs, it->when);
  return ZoneOfType(it->type, it->when, end);
}

Civil Location::ToCivil(int64_t secs) const {
  secs = std::clamp(secs, -kMaxInstant, kMaxInstant);
  Civil c;
  c.offset = Lookup(secs).offset;
  int64_t local = secs + c.offset;
  int64_t days = FloorDiv(local, kSecondsPerDay);
  int64_t of_day = local - days * kSecondsPerDay;
  CivilFromDays(days, &c.year, &c.month, &c.day);
  c.hour = static_cast<int>(of_day / 3600);
  c.minute = static_cast<int>(of_day / 60 % 60);
  c.second = static_cast<int>(of_day % 60);
  c.weekday = static_cast<int>(FloorMod(days + 4, 7));
  return c;
}

int64_t Location::FromCivil(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute,
                            int64_t second) const {
  // Normalize the month into 1..12 first; the rest is a count of seconds.
  int64_t m0 = month - 1;
  year += FloorDiv(m0, 12);
  int mon = static_cast<int>(FloorMod(m0, 12)) + 1;
  year = std::clamp<int64_t>(year, -1000000, 1000000);
  day = std::clamp<int64_t>(day, -kMaxInstant / kSecondsPerDay / 4, kMaxInstant / kSecondsPerDay / 4);
  int64_t days = DaysFromCivil(year, mon, 1) + day - 1;
  int64_t local = days * kSecondsPerDay + std::clamp<int64_t>(hour, -1000000, 1000000) * 3600 +
                  std::clamp<int64_t>(minute, -1000000, 1000000) * 60 + std::clamp<int64_t>(second, -1000000, 1000000);
  // Go's time.Date: guess the offset in force at `local` read as UTC, then check the
  // guess against the zone's range and look again when it falls outside.
  Zone z = Lookup(local);
  if (z.offset == 0) return local;
  int64_t utc = local - z.offset;
  if (utc < z.start || utc >= z.end) return local - Lookup(utc).offset;
  return utc;
}

std::string Location::FormatRFC3339(int64_t secs) const {
  Civil c = ToCivil(secs);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d", static_cast<long long>(c.year), c.month, c.day,
                c.hour, c.minute, c.second);
  std::string out = buf;
  if (c.offset == 0) return out + "Z";
  int off = c.offset < 0 ? -c.offset : c.offset;
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", c.offset < 0 ? '-' : '+', off / 3600, off / 60 % 60);
  return out + buf;
}

}  // namespace kubes::controller::cronjob
