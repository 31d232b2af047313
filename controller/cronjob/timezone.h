// Location — a time zone read from the system's zoneinfo files, so that a CronJob's
// spec.timeZone ("Europe/Berlin") can say when "0 3 * * *" happens (upstream: Go's
// time.LoadLocation and time.Date, which robfig/cron builds on).
//
// A zoneinfo file (TZif, RFC 8536) lists the instants at which a zone's UTC offset
// changes, up to some year, and ends with a POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3")
// for the years after the last listed change. Lookup(t) answers "which offset is in
// force at instant t, and from when to when"; everything else here is civil-calendar
// arithmetic built on that:
//
//   ToCivil(t)           instant → wall clock (year … second, weekday)
//   FromCivil(y,m,d,…)   wall clock → instant, normalizing like Go's time.Date: month
//                        13 is January of the next year, a wall time that a DST change
//                        skips or repeats resolves the way Go resolves it.
//
// Times are whole seconds since the Unix epoch (cron has no use for less).
//
// Thread-safety: a Location is immutable once loaded; share it freely.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace kubes::controller::cronjob {

// A wall-clock reading in some zone.
struct Civil {
  int64_t year = 1970;
  int month = 1;    // 1..12
  int day = 1;      // 1..31
  int hour = 0, minute = 0, second = 0;
  int weekday = 4;  // 0 = Sunday
  int offset = 0;   // seconds east of UTC in force
};

class Location {
 public:
  // The zone in force at an instant and the instants [start, end) it covers.
  struct Zone {
    int offset = 0;  // seconds east of UTC
    bool is_dst = false;
    std::string abbreviation;
    int64_t start = INT64_MIN;
    int64_t end = INT64_MAX;
  };

  // Go's time.LoadLocation: "" and "UTC" are UTC, "Local" is the machine's zone
  // (TZ, else /etc/localtime), anything else a file under the zoneinfo directory
  // ($ZONEINFO, else /usr/share/zoneinfo). Names with "..", or starting with '/' or
  // '\', are refused. Errors read like Go's: "unknown time zone Mars/Base".
  static Result<std::shared_ptr<const Location>> Load(const std::string& name);
  static std::shared_ptr<const Location> UTC();
  static std::shared_ptr<const Location> Local();
  // Parses TZif bytes (untrusted: never crashes on bad input).
  static Result<std::shared_ptr<const Location>> FromTZif(std::string_view data, const std::string& name);
  // A zone of constant rules given as a POSIX TZ string ("EST5EDT,M3.2.0,M11.1.0").
  static Result<std::shared_ptr<const Location>> FromPosix(std::string_view tz, const std::string& name);

  const std::string& name() const { return name_; }
  Zone Lookup(int64_t secs) const;

  Civil ToCivil(int64_t secs) const;
  // Go's time.Date(year, month, day, hour, min, sec, 0, loc).Unix(): every field may
  // be out of range and is carried into the next larger one.
  int64_t FromCivil(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute, int64_t second) const;
  // RFC 3339 with this zone's offset: "2024-03-31T03:00:00+02:00", or "…Z" at UTC+0
  // (Go's time.RFC3339 layout).
  std::string FormatRFC3339(int64_t secs) const;

  // A rule of a POSIX TZ string ("M3.5.0/3", "J60", "59"), public for the parser.
  struct Rule {
    enum Kind { kJulian, kDayOfYear, kMonthWeekDay } kind = kMonthWeekDay;
    int day = 0, week = 0, month = 0;
    int time = 7200;  // seconds after local midnight
  };
  struct Posix {
    std::string std_name, dst_name;
    int std_offset = 0, dst_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    Rule start, end;
  };

 private:
  struct Transition {
    int64_t when;
    int type;
  };
  Zone ZoneOfType(int type, int64_t start, int64_t end) const;
  Zone LookupPosix(int64_t secs, int64_t start) const;
  int FirstZoneType() const;

  Location() = default;  // through the factories: a Location always has a zone type

  std::string name_;
  std::vector<Zone> types_;  // start/end unused
  std::vector<Transition> transitions_;
  bool has_posix_ = false;
  Posix posix_;
};

// Days since 1970-01-01 of a proleptic Gregorian date (month and day in range).
int64_t DaysFromCivil(int64_t year, int month, int day);
bool IsLeapYear(int64_t year);
int DaysInMonth(int64_t year, int month);

}  // namespace kubes::controller::cronjob
