#include "controller/cronjob/schedule.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

namespace kubes::controller::cronjob {
namespace {

constexpr uint64_t kStarBit = uint64_t{1} << 63;

struct Bounds {
  uint64_t min, max;
  const std::map<std::string, uint64_t>* names;
};

const std::map<std::string, uint64_t> kMonthNames = {{"jan", 1}, {"feb", 2},  {"mar", 3},  {"apr", 4},
                                                     {"may", 5}, {"jun", 6},  {"jul", 7},  {"aug", 8},
                                                     {"sep", 9}, {"oct", 10}, {"nov", 11}, {"dec", 12}};
const std::map<std::string, uint64_t> kDayNames = {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3},
                                                   {"thu", 4}, {"fri", 5}, {"sat", 6}};
const Bounds kMinutes{0, 59, nullptr};
const Bounds kHours{0, 23, nullptr};
const Bounds kDom{1, 31, nullptr};
const Bounds kMonths{1, 12, &kMonthNames};
const Bounds kDow{0, 6, &kDayNames};

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// Go's strings.Fields for ASCII whitespace.
std::vector<std::string_view> Fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !IsSpace(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Go's strconv.Atoi, with robfig's wording around it.
Result<uint64_t> MustParseInt(std::string_view expr) {
  std::string e(expr);
  auto syntax = [&] { return Invalid("failed to parse int from " + e + ": strconv.Atoi: parsing \"" + e + "\": invalid syntax"); };
  std::string_view digits = expr;
  bool neg = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    neg = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty()) return syntax();
  uint64_t v = 0;
  bool overflow = false;
  for (char c : digits) {
    if (c < '0' || c > '9') return syntax();
    if (v > (uint64_t{1} << 63) / 10) overflow = true;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (overflow || v > (neg ? (uint64_t{1} << 63) : (uint64_t{1} << 63) - 1)) {
    return Invalid("failed to parse int from " + e + ": strconv.Atoi: parsing \"" + e + "\": value out of range");
  }
  if (neg && v > 0) return Invalid("negative number (-" + std::to_string(v) + ") not allowed: " + e);
  return v;
}

Result<uint64_t> ParseIntOrName(std::string_view expr, const Bounds& r) {
  if (r.names) {
    std::string lower(expr);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    auto it = r.names->find(lower);
    if (it != r.names->end()) return it->second;
  }
  return MustParseInt(expr);
}

uint64_t Bits(uint64_t min, uint64_t max, uint64_t step) {
  uint64_t bits = 0;
  for (uint64_t i = min; i <= max; i += step) bits |= uint64_t{1} << i;
  return bits;
}

// number | number "-" number [ "/" number ] | "*" or "?" [ "/" number ]
Result<uint64_t> GetRange(std::string_view expr, const Bounds& r) {
  std::string e(expr);
  auto range_and_step = Split(expr, '/');
  auto low_and_high = Split(range_and_step[0], '-');
  bool single = low_and_high.size() == 1;
  uint64_t start, end, step = 1, extra = 0;
  if (low_and_high[0] == "*" || low_and_high[0] == "?") {
    start = r.min;
    end = r.max;
    extra = kStarBit;
  } else {
    auto s = ParseIntOrName(low_and_high[0], r);
    if (!s.ok()) return s.status();
    start = end = *s;
    if (low_and_high.size() == 2) {
      auto h = ParseIntOrName(low_and_high[1], r);
      if (!h.ok()) return h.status();
      end = *h;
    } else if (low_and_high.size() > 2) {
      return Invalid("too many hyphens: " + e);
    }
  }
  if (range_and_step.size() == 2) {
    auto st = MustParseInt(range_and_step[1]);
    if (!st.ok()) return st.status();
    step = *st;
    if (single) end = r.max;  // "N/step" means "N-max/step"
    if (step > 1) extra = 0;
  } else if (range_and_step.size() > 2) {
    return Invalid("too many slashes: " + e);
  }
  if (start < r.min) {
    return Invalid("beginning of range (" + std::to_string(start) + ") below minimum (" + std::to_string(r.min) + "): " + e);
  }
  if (end > r.max) {
    return Invalid("end of range (" + std::to_string(end) + ") above maximum (" + std::to_string(r.max) + "): " + e);
  }
  if (start > end) {
    return Invalid("beginning of range (" + std::to_string(start) + ") beyond end of range (" + std::to_string(end) + "): " + e);
  }
  if (step == 0) return Invalid("step of range should be a positive number: " + e);
  return Bits(start, end, step) | extra;
}

// A comma list of ranges; empty elements are skipped (Go's strings.FieldsFunc).
Result<uint64_t> GetField(std::string_view field, const Bounds& r) {
  uint64_t bits = 0;
  for (std::string_view expr : Split(field, ',')) {
    if (expr.empty()) continue;
    auto b = GetRange(expr, r);
    if (!b.ok()) return b.status();
    bits |= *b;
  }
  return bits;
}

uint64_t All(const Bounds& r) { return Bits(r.min, r.max, 1) | kStarBit; }

std::string GoSlice(const std::vector<std::string_view>& fields) {
  std::string out = "[";
  for (size_t i = 0; i < fields.size(); ++i) out += (i ? " " : "") + std::string(fields[i]);
  return out + "]";
}

bool Has(uint64_t bits, int v) { return (bits >> v) & 1; }

}  // namespace

Result<Schedule> Schedule::Parse(std::string_view spec, std::shared_ptr<const Location> zone) {
  if (spec.empty()) return Invalid("empty spec string");
  Schedule s;
  s.zone_ = std::move(zone);
  if (spec.rfind("TZ=", 0) == 0 || spec.rfind("CRON_TZ=", 0) == 0) {
    size_t space = spec.find(' ');
    if (space == std::string_view::npos) return Invalid("invalid location descriptor: " + std::string(spec));
    size_t eq = spec.find('=');
    std::string name(spec.substr(eq + 1, space - eq - 1));
    auto loc = Location::Load(name);
    if (!loc.ok()) return Invalid("provided bad location " + name + ": " + loc.status().message());
    s.zone_ = *loc;
    spec = TrimSpace(spec.substr(space));
  }
  if (!s.zone_) s.zone_ = Location::UTC();
  if (!spec.empty() && spec[0] == '@') {
    std::string d(spec);
    const uint64_t midnight_minute = 1, midnight_hour = 1;
    if (d == "@yearly" || d == "@annually") {
      s.minute_ = midnight_minute, s.hour_ = midnight_hour, s.dom_ = 1 << 1, s.month_ = 1 << 1, s.dow_ = All(kDow);
    } else if (d == "@monthly") {
      s.minute_ = midnight_minute, s.hour_ = midnight_hour, s.dom_ = 1 << 1, s.month_ = All(kMonths), s.dow_ = All(kDow);
    } else if (d == "@weekly") {
      s.minute_ = midnight_minute, s.hour_ = midnight_hour, s.dom_ = All(kDom), s.month_ = All(kMonths), s.dow_ = 1;
    } else if (d == "@daily" || d == "@midnight") {
      s.minute_ = midnight_minute, s.hour_ = midnight_hour, s.dom_ = All(kDom), s.month_ = All(kMonths),
      s.dow_ = All(kDow);
    } else if (d == "@hourly") {
      s.minute_ = midnight_minute, s.hour_ = All(kHours), s.dom_ = All(kDom), s.month_ = All(kMonths),
      s.dow_ = All(kDow);
    } else if (d.rfind("@every ", 0) == 0) {
      auto nanos = ParseGoDuration(std::string_view(d).substr(7));
      if (!nanos.ok()) return Invalid("failed to parse duration " + d + ": " + nanos.status().message());
      // robfig's Every: at least a second, whole seconds.
      s.every_seconds_ = std::max<int64_t>(*nanos / 1000000000, 1);
    } else {
      return Invalid("unrecognized descriptor: " + d);
    }
    return s;
  }
  auto fields = Fields(spec);
  if (fields.size() != 5) {
    return Invalid("expected exactly 5 fields, found " + std::to_string(fields.size()) + ": " + GoSlice(fields));
  }
  const Bounds* bounds[] = {&kMinutes, &kHours, &kDom, &kMonths, &kDow};
  uint64_t* out[] = {&s.minute_, &s.hour_, &s.dom_, &s.month_, &s.dow_};
  for (int i = 0; i < 5; ++i) {
    auto bits = GetField(fields[i], *bounds[i]);
    if (!bits.ok()) return bits.status();
    *out[i] = *bits;
  }
  return s;
}

bool Schedule::DayMatches(const Civil& c) const {
  bool dom = Has(dom_, c.day), dow = Has(dow_, c.weekday);
  if ((dom_ & kStarBit) || (dow_ & kStarBit)) return dom && dow;
  return dom || dow;
}

// robfig's SpecSchedule.Next, step for step: find the month, then the day, hour and
// minute, each time resetting the smaller fields once a larger one moved, and start
// over ("wrap") when a field rolls past its end.
std::optional<int64_t> Schedule::NextSpec(int64_t t) const {
  const Location& loc = *zone_;
  t += 1;  // the earliest possible time: the next whole second
  bool added = false;
  const int64_t year_limit = loc.ToCivil(t).year + 5;
  // Bounds the work a pathological zone could cause; five years of minutes fit well.
  int64_t budget = 10'000'000;
  auto civil = [&] {
    --budget;
    return loc.ToCivil(t);
  };
  while (true) {  // WRAP
    Civil c = civil();
    if (c.year > year_limit || budget <= 0) return std::nullopt;
    bool wrapped = false;
    while (!Has(month_, c.month)) {
      if (!added) {
        added = true;
        t = loc.FromCivil(c.year, c.month, 1, 0, 0, 0);
        c = civil();
      }
      t = loc.FromCivil(c.year, c.month + 1, c.day, c.hour, c.minute, c.second);
      c = civil();
      if (c.month == 1 || budget <= 0) {
        wrapped = true;
        break;
      }
    }
    if (wrapped) continue;
    while (!DayMatches(c)) {
      if (!added) {
        added = true;
        t = loc.FromCivil(c.year, c.month, c.day, 0, 0, 0);
        c = civil();
      }
      t = loc.FromCivil(c.year, c.month, c.day + 1, c.hour, c.minute, c.second);
      c = civil();
      // A DST change may leave the day starting at 23:00 or 01:00: back to midnight.
      if (c.hour != 0) {
        t += c.hour > 12 ? (24 - c.hour) * 3600 : -c.hour * 3600;
        c = civil();
      }
      if (c.day == 1 || budget <= 0) {
        wrapped = true;
        break;
      }
    }
    if (wrapped) continue;
    while (!Has(hour_, c.hour)) {
      if (!added) {
        added = true;
        t = loc.FromCivil(c.year, c.month, c.day, c.hour, 0, 0);
      }
      t += 3600;
      c = civil();
      if (c.hour == 0 || budget <= 0) {
        wrapped = true;
        break;
      }
    }
    if (wrapped) continue;
    while (!Has(minute_, c.minute)) {
      if (!added) {
        added = true;
        t -= ((t % 60) + 60) % 60;
      }
      t += 60;
      c = civil();
      if (c.minute == 0 || budget <= 0) {
        wrapped = true;
        break;
      }
    }
    if (wrapped) continue;
    // Only second 0 fires: move there and check every field again.
    if (c.second != 0) {
      added = true;
      t += 60 - c.second;
      continue;
    }
    return t;
  }
}

std::optional<TimePoint> Schedule::Next(TimePoint t) const {
  int64_t secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  if (std::chrono::system_clock::from_time_t(secs) > t) --secs;  // floor for times before 1970
  std::optional<int64_t> next;
  if (every_seconds_ > 0) next = secs + every_seconds_;
  else next = NextSpec(secs);
  if (!next) return std::nullopt;
  return std::chrono::system_clock::from_time_t(static_cast<time_t>(*next));
}

Result<int64_t> ParseGoDuration(std::string_view orig) {
  const std::string quoted = "\"" + std::string(orig) + "\"";
  const Status invalid = Invalid("time: invalid duration " + quoted);
  std::string_view s = orig;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return invalid;
  static const std::map<std::string, uint64_t> kUnits = {
      {"ns", 1}, {"us", 1000}, {"\xc2\xb5s", 1000}, {"\xce\xbcs", 1000}, {"ms", 1000000}, {"s", 1000000000},
      {"m", 60000000000ULL}, {"h", 3600000000000ULL}};
  constexpr uint64_t kLimit = uint64_t{1} << 63;
  uint64_t total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) return invalid;
    uint64_t v = 0, f = 0;
    double scale = 1;
    size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (v > kLimit / 10) return invalid;
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kLimit) return invalid;
    }
    bool pre = i > 0;
    s.remove_prefix(i);
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t j = 0;
      bool overflow = false;
      for (; j < s.size() && s[j] >= '0' && s[j] <= '9'; ++j) {
        if (overflow) continue;
        if (f > (kLimit - 1) / 10) {
          overflow = true;
          continue;
        }
        f = f * 10 + static_cast<uint64_t>(s[j] - '0');
        scale *= 10;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return invalid;
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !(s[u] >= '0' && s[u] <= '9')) ++u;
    if (u == 0) return Invalid("time: missing unit in duration " + quoted);
    std::string unit(s.substr(0, u));
    s.remove_prefix(u);
    auto it = kUnits.find(unit);
    if (it == kUnits.end()) return Invalid("time: unknown unit \"" + unit + "\" in duration " + quoted);
    if (v > kLimit / it->second) return invalid;
    v *= it->second;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(it->second) / scale));
      if (v > kLimit) return invalid;
    }
    total += v;
    if (total > kLimit) return invalid;
  }
  if (neg) return -static_cast<int64_t>(total - 1) - 1;
  if (total > kLimit - 1) return invalid;
  return static_cast<int64_t>(total);
}

}  // namespace kubes::controller::cronjob
