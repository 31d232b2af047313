#include "util/time.h"

#include <cstdio>
#include <ctime>

namespace kubes {

const Clock& RealClock::Get() {
  static const RealClock clock;
  return clock;
}

namespace {
std::tm ToUTC(TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}
}  // namespace

std::string FormatRFC3339(TimePoint t) {
  std::tm tm = ToUTC(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatRFC3339Micro(TimePoint t) {
  std::tm tm = ToUTC(t);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() % 1000000;
  if (micros < 0) micros += 1000000;
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06lldZ", static_cast<long long>(micros));
  return buf;
}

std::optional<TimePoint> ParseRFC3339(const std::string& s) {
  std::tm tm{};
  int year, mon, day, hour, min, sec;
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &mon, &day, &hour, &min, &sec, &consumed) != 6) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  std::time_t base = timegm(&tm);
  auto t = std::chrono::system_clock::from_time_t(base);
  size_t i = consumed;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int64_t frac = 0, scale = 1000000000;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (scale > 1) {
        scale /= 10;
        frac += (s[i] - '0') * scale;
      }
      ++i;
    }
    t += std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(frac));
  }
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) return t;
  int oh, om;
  if (i < s.size() && (s[i] == '+' || s[i] == '-') && std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) == 2) {
    auto offset = std::chrono::hours(oh) + std::chrono::minutes(om);
    return s[i] == '+' ? t - offset : t + offset;
  }
  return std::nullopt;
}

std::string HumanDuration(std::chrono::seconds d) {
  long long seconds = d.count();
  auto f = [](const char* fmt, long long a, long long b = 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, fmt, a, b);
    return std::string(buf);
  };
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return f("%llds", seconds);
  long long minutes = seconds / 60;
  if (minutes < 10) {
    long long s = seconds % 60;
    return s == 0 ? f("%lldm", minutes) : f("%lldm%llds", minutes, s);
  }
  if (minutes < 60 * 3) return f("%lldm", minutes);
  long long hours = seconds / 3600;
  if (hours < 8) {
    long long m = minutes % 60;
    return m == 0 ? f("%lldh", hours) : f("%lldh%lldm", hours, m);
  }
  if (hours < 48) return f("%lldh", hours);
  if (hours < 24 * 8) {
    long long h = hours % 24;
    return h == 0 ? f("%lldd", hours / 24) : f("%lldd%lldh", hours / 24, h);
  }
  if (hours < 24 * 365 * 2) return f("%lldd", hours / 24);
  if (hours < 24 * 365 * 8) {
    long long dy = (hours / 24) % 365;
    return dy == 0 ? f("%lldy", hours / 24 / 365) : f("%lldy%lldd", hours / 24 / 365, dy);
  }
  return f("%lldy", hours / 24 / 365);
}

std::string GoDurationString(int64_t nanos) {
  if (nanos == 0) return "0s";
  std::string sign = nanos < 0 ? "-" : "";
  uint64_t u = nanos < 0 ? static_cast<uint64_t>(-(nanos + 1)) + 1 : static_cast<uint64_t>(nanos);
  auto frac = [](uint64_t v, int digits) {  // v / 10^digits with trailing zeros trimmed
    std::string whole = std::to_string(v);
    while (static_cast<int>(whole.size()) <= digits) whole = "0" + whole;
    std::string intpart = whole.substr(0, whole.size() - digits), fracpart = whole.substr(whole.size() - digits);
    while (!fracpart.empty() && fracpart.back() == '0') fracpart.pop_back();
    return fracpart.empty() ? intpart : intpart + "." + fracpart;
  };
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + frac(u, 3) + "µs";
  if (u < 1000000000) return sign + frac(u, 6) + "ms";
  uint64_t total_seconds = u / 1000000000, sub = u % 1000000000;
  uint64_t h = total_seconds / 3600, m = (total_seconds / 60) % 60, s = total_seconds % 60;
  std::string out = sign;
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  out += frac(s * 1000000000 + sub, 9) + "s";
  return out;
}

}  // namespace kubes
