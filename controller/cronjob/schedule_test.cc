// Cron schedules and time zones: parsing (robfig/cron's accepted syntax and error
// messages) and next activation times across month ends, leap days, steps and the
// daylight-saving changes of Europe/Berlin and America/New_York, read from the
// system's zoneinfo files.
#include <gtest/gtest.h>

#include "controller/cronjob/schedule.h"
#include "controller/cronjob/timezone.h"

namespace kubes::controller::cronjob {
namespace {

TimePoint At(const std::string& rfc3339) {
  auto t = ParseRFC3339(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(TimePoint{});
}

std::shared_ptr<const Location> Zone(const std::string& name) {
  auto loc = Location::Load(name);
  EXPECT_TRUE(loc.ok()) << name << ": " << loc.status().ToString();
  return loc.ok() ? *loc : Location::UTC();
}

int64_t Unix(const std::string& rfc3339) {
  return std::chrono::duration_cast<std::chrono::seconds>(At(rfc3339).time_since_epoch()).count();
}

TEST(Schedule, NextTimes) {
  struct Case {
    std::string spec, zone, from, want;  // want "" = never
  } cases[] = {
      // Steps, ranges, lists and names.
      {"*/15 * * * *", "UTC", "2024-01-31T23:50:00Z", "2024-02-01T00:00:00Z"},
      {"*/7 * * * *", "UTC", "2024-06-01T10:50:00Z", "2024-06-01T10:56:00Z"},
      {"*/7 * * * *", "UTC", "2024-06-01T10:56:00Z", "2024-06-01T11:00:00Z"},  // 56 → 0, not 63
      {"5-20/5 * * * *", "UTC", "2024-06-01T10:21:00Z", "2024-06-01T11:05:00Z"},
      {"10/20 * * * *", "UTC", "2024-06-01T10:31:00Z", "2024-06-01T10:50:00Z"},  // N/step = N-59/step
      {"0 9 * * MON-FRI", "UTC", "2024-06-01T10:00:00Z", "2024-06-03T09:00:00Z"},  // Saturday → Monday
      {"0 0 1 jan,JUL *", "UTC", "2024-02-01T00:00:00Z", "2024-07-01T00:00:00Z"},
      {"0 0 ? * SUN", "UTC", "2024-06-05T00:00:00Z", "2024-06-09T00:00:00Z"},
      {"* * * * *", "UTC", "2024-06-01T10:00:00Z", "2024-06-01T10:01:00Z"},  // strictly after
      {"* * * * *", "UTC", "2024-06-01T10:00:30Z", "2024-06-01T10:01:00Z"},
      // Month ends and leap days.
      {"0 0 31 * *", "UTC", "2024-04-01T00:00:00Z", "2024-05-31T00:00:00Z"},
      {"0 12 29 2 *", "UTC", "2023-03-01T00:00:00Z", "2024-02-29T12:00:00Z"},
      {"0 12 29 2 *", "UTC", "2024-02-29T12:00:00Z", "2028-02-29T12:00:00Z"},
      {"0 0 30 2 *", "UTC", "2024-01-01T00:00:00Z", ""},  // never
      {"59 23 31 12 *", "UTC", "2024-12-31T23:59:00Z", "2025-12-31T23:59:00Z"},
      // Day of month OR day of week when both are restricted; AND when one is *.
      {"0 0 13 * 5", "UTC", "2024-09-01T00:00:00Z", "2024-09-06T00:00:00Z"},  // a Friday
      {"0 0 13 * 5", "UTC", "2024-09-07T00:00:00Z", "2024-09-13T00:00:00Z"},  // the 13th
      {"0 0 */10 * 1", "UTC", "2024-06-01T00:00:00Z", "2024-06-03T00:00:00Z"},  // */10 restricts: OR
      {"0 0 * * 1", "UTC", "2024-06-01T00:00:00Z", "2024-06-03T00:00:00Z"},
      // Descriptors.
      {"@hourly", "UTC", "2024-06-01T10:30:00Z", "2024-06-01T11:00:00Z"},
      {"@daily", "UTC", "2024-06-01T10:30:00Z", "2024-06-02T00:00:00Z"},
      {"@weekly", "UTC", "2024-06-05T10:00:00Z", "2024-06-09T00:00:00Z"},
      {"@monthly", "UTC", "2024-06-05T10:00:00Z", "2024-07-01T00:00:00Z"},
      {"@yearly", "UTC", "2024-06-05T10:00:00Z", "2025-01-01T00:00:00Z"},
      {"@every 90m", "UTC", "2024-06-01T10:00:00Z", "2024-06-01T11:30:00Z"},
      {"@every 500ms", "UTC", "2024-06-01T10:00:00Z", "2024-06-01T10:00:01Z"},  // at least a second
      // Time zones: the fields are wall-clock times there.
      {"0 9 * * *", "America/New_York", "2024-06-01T12:00:00Z", "2024-06-01T13:00:00Z"},
      {"0 9 * * *", "America/New_York", "2024-01-01T12:00:00Z", "2024-01-01T14:00:00Z"},
      {"TZ=America/New_York 0 9 * * *", "UTC", "2024-06-01T12:00:00Z", "2024-06-01T13:00:00Z"},
      {"CRON_TZ=Europe/Berlin 0 9 * * *", "UTC", "2024-06-01T12:00:00Z", "2024-06-02T07:00:00Z"},
      // Europe/Berlin springs forward on 2024-03-31 at 02:00 CET (01:00Z) to 03:00 CEST:
      // 02:30 does not exist that day and is skipped; 03:30 is there as usual.
      {"30 2 * * *", "Europe/Berlin", "2024-03-30T12:00:00Z", "2024-04-01T00:30:00Z"},
      {"30 3 * * *", "Europe/Berlin", "2024-03-30T12:00:00Z", "2024-03-31T01:30:00Z"},
      // It falls back on 2024-10-27 at 03:00 CEST (01:00Z) to 02:00 CET: 02:30 happens twice.
      {"30 2 * * *", "Europe/Berlin", "2024-10-26T12:00:00Z", "2024-10-27T00:30:00Z"},
      {"30 2 * * *", "Europe/Berlin", "2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z"},
      {"30 2 * * *", "Europe/Berlin", "2024-10-27T01:30:00Z", "2024-10-28T01:30:00Z"},
      // America/New_York: 2024-03-10 02:00 EST → 03:00 EDT, 2024-11-03 02:00 EDT → 01:00 EST.
      {"0 2 * * *", "America/New_York", "2024-03-09T12:00:00Z", "2024-03-11T06:00:00Z"},
      {"30 1 * * *", "America/New_York", "2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z"},
      {"0 * * * *", "America/New_York", "2024-11-03T05:00:00Z", "2024-11-03T06:00:00Z"},  // 01:00 EDT → 01:00 EST
      // After the last transition in the file, the zone's POSIX rule takes over.
      {"0 12 1 7 *", "Europe/Berlin", "2040-01-01T00:00:00Z", "2040-07-01T10:00:00Z"},
  };
  for (const auto& c : cases) {
    if (c.from.empty()) continue;
    SCOPED_TRACE(c.spec + " in " + c.zone + " after " + c.from);
    auto s = Schedule::Parse(c.spec, Zone(c.zone));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    auto next = s->Next(At(c.from));
    if (c.want.empty()) {
      EXPECT_FALSE(next.has_value()) << FormatRFC3339(*next);
    } else {
      ASSERT_TRUE(next.has_value());
      EXPECT_EQ(FormatRFC3339(*next), c.want);
    }
  }
}

TEST(Schedule, ErrorsReadLikeRobfigCron) {
  struct Case {
    std::string spec, want;
  } cases[] = {
      {"", "empty spec string"},
      {"* * * *", "expected exactly 5 fields, found 4: [* * * *]"},
      {"* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"},
      {"60 * * * *", "end of range (60) above maximum (59): 60"},
      {"* * 0 * *", "beginning of range (0) below minimum (1): 0"},
      {"* * * * 7", "end of range (7) above maximum (6): 7"},
      {"5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"},
      {"*/0 * * * *", "step of range should be a positive number: */0"},
      {"x * * * *", "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"},
      {"1-2-3 * * * *", "too many hyphens: 1-2-3"},
      {"*/2/3 * * * *", "too many slashes: */2/3"},
      {"* * * FOO *", "failed to parse int from FOO: strconv.Atoi: parsing \"FOO\": invalid syntax"},
      {"@fortnightly", "unrecognized descriptor: @fortnightly"},
      {"@every 1x", "failed to parse duration @every 1x: time: unknown unit \"x\" in duration \"1x\""},
      {"@every", "unrecognized descriptor: @every"},
      {"TZ=Mars/Base * * * * *", "provided bad location Mars/Base: unknown time zone Mars/Base"},
  };
  for (const auto& c : cases) {
    auto s = Schedule::Parse(c.spec, Location::UTC());
    ASSERT_FALSE(s.ok()) << c.spec;
    EXPECT_EQ(s.status().message(), c.want) << c.spec;
  }
}

TEST(Schedule, GoDurations) {
  struct Case {
    std::string in;
    int64_t want;
    bool ok;
  } cases[] = {
      {"1h30m", 5400'000'000'000, true}, {"1.5s", 1'500'000'000, true}, {"-2m", -120'000'000'000, true},
      {"0", 0, true},                    {"300ms", 300'000'000, true},  {"1", 0, false},
      {"", 0, false},                    {".s", 0, false},              {"9999999999999h", 0, false},
  };
  for (const auto& c : cases) {
    auto d = ParseGoDuration(c.in);
    EXPECT_EQ(d.ok(), c.ok) << c.in;
    if (d.ok()) {
      EXPECT_EQ(*d, c.want) << c.in;
    }
  }
  EXPECT_EQ(ParseGoDuration("1").status().message(), "time: missing unit in duration \"1\"");
}

TEST(Location, OffsetsAndWallClock) {
  auto berlin = Zone("Europe/Berlin");
  EXPECT_EQ(berlin->Lookup(Unix("2024-01-15T12:00:00Z")).offset, 3600);
  EXPECT_EQ(berlin->Lookup(Unix("2024-07-15T12:00:00Z")).abbreviation, "CEST");
  EXPECT_EQ(berlin->Lookup(Unix("2050-07-15T12:00:00Z")).offset, 7200);  // from the POSIX footer
  auto sydney = Zone("Australia/Sydney");
  EXPECT_EQ(sydney->Lookup(Unix("2024-01-15T12:00:00Z")).offset, 11 * 3600);
  EXPECT_EQ(sydney->Lookup(Unix("2050-01-15T12:00:00Z")).offset, 11 * 3600);  // southern summer
  EXPECT_EQ(sydney->Lookup(Unix("2050-07-15T12:00:00Z")).offset, 10 * 3600);

  // Go's time.Date: a skipped wall time moves forward, a repeated one is the later.
  EXPECT_EQ(berlin->FromCivil(2024, 3, 31, 2, 30, 0), Unix("2024-03-31T01:30:00Z"));
  EXPECT_EQ(berlin->FromCivil(2024, 10, 27, 2, 30, 0), Unix("2024-10-27T01:30:00Z"));
  EXPECT_EQ(berlin->FromCivil(2024, 13, 1, 0, 0, 0), Unix("2024-12-31T23:00:00Z"));  // month 13
  EXPECT_EQ(berlin->FromCivil(2024, 2, 30, 0, 0, 0), Unix("2024-02-29T23:00:00Z"));  // Feb 30 = Mar 1

  Civil c = berlin->ToCivil(Unix("2024-03-31T01:30:00Z"));
  EXPECT_EQ((std::vector<int>{c.month, c.day, c.hour, c.minute, c.weekday}), (std::vector<int>{3, 31, 3, 30, 0}));
  EXPECT_EQ(berlin->FormatRFC3339(Unix("2024-03-31T01:30:00Z")), "2024-03-31T03:30:00+02:00");
  EXPECT_EQ(Zone("America/New_York")->FormatRFC3339(Unix("2024-01-01T12:00:00Z")), "2024-01-01T07:00:00-05:00");
  EXPECT_EQ(Location::UTC()->FormatRFC3339(Unix("2024-01-01T12:00:00Z")), "2024-01-01T12:00:00Z");
}

TEST(Location, LoadRefusesBadNames) {
  EXPECT_EQ(Location::Load("Mars/Base").status().message(), "unknown time zone Mars/Base");
  EXPECT_FALSE(Location::Load("../../etc/passwd").ok());
  EXPECT_FALSE(Location::Load("/etc/localtime").ok());
  EXPECT_EQ((*Location::Load(""))->name(), "UTC");
  // Not a TZif file.
  EXPECT_FALSE(Location::FromTZif("hello", "x").ok());
  auto ny = Location::FromPosix("EST5EDT,M3.2.0,M11.1.0", "x");
  ASSERT_TRUE(ny.ok());
  EXPECT_EQ((*ny)->Lookup(Unix("2024-07-01T00:00:00Z")).offset, -4 * 3600);
  EXPECT_EQ((*ny)->Lookup(Unix("2024-12-01T00:00:00Z")).offset, -5 * 3600);
}

}  // namespace
}  // namespace kubes::controller::cronjob
