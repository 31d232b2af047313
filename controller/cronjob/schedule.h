// Schedule — a CronJob's spec.schedule, parsed, and the question "when does it fire
// next?" (upstream: github.com/robfig/cron/v3, which Kubernetes uses through
// cron.ParseStandard for both validation and the CronJob controller).
//
// Accepted, exactly as robfig/cron's standard parser accepts it:
//
//   minute hour day-of-month month day-of-week      five fields, whitespace apart
//     each field: a comma list of  *  ?  N  N-M  with an optional /step;
//     "N/step" means N-max/step; months JAN..DEC, weekdays SUN..SAT (any case);
//     day-of-week is 0..6 (Sunday is 0; 7 is out of range)
//   @yearly @annually @monthly @weekly @daily @midnight @hourly
//   @every <Go duration>   ("@every 1h30m": a fixed interval, at least 1 s)
//   TZ=<zone> or CRON_TZ=<zone> before any of these
//
// Day matching follows cron's (and robfig's) rule: when both day-of-month and
// day-of-week are restricted (neither starts with * or ?), a day matching either one
// fires; otherwise both must match.
//
// Next(t) walks the calendar in the schedule's time zone the way robfig's
// SpecSchedule.Next does, so daylight-saving changes behave identically: a wall time
// skipped by a spring-forward change does not fire that day, one repeated by a
// fall-back change fires twice, and a day whose midnight does not exist starts at the
// first hour it has. Nothing within five years → no next time.
//
// Errors carry robfig's messages ("expected exactly 5 fields, found 4: [* * * *]"),
// which the apiserver returns in validation errors as upstream does.
//
// Thread-safety: a Schedule is immutable; Parse and Next are pure.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "controller/cronjob/timezone.h"
#include "util/status.h"
#include "util/time.h"

namespace kubes::controller::cronjob {

class Schedule {
 public:
  // zone: where the fields are read, unless the spec starts with TZ=/CRON_TZ=.
  static Result<Schedule> Parse(std::string_view spec, std::shared_ptr<const Location> zone);

  // The first activation strictly after t; nullopt when there is none within five years.
  std::optional<TimePoint> Next(TimePoint t) const;

  const Location& zone() const { return *zone_; }

 private:
  std::optional<int64_t> NextSpec(int64_t t) const;
  bool DayMatches(const Civil& c) const;

  // Bit i set: value i matches. Bit 63 ("star") marks a field written as * or ?.
  uint64_t minute_ = 0, hour_ = 0, dom_ = 0, month_ = 0, dow_ = 0;
  int64_t every_seconds_ = 0;  // > 0 for @every
  std::shared_ptr<const Location> zone_;
};

// Go's time.ParseDuration, in nanoseconds ("1h30m", "1.5s", "-2m"). Errors read like
// Go's: `time: invalid duration "x"`.
Result<int64_t> ParseGoDuration(std::string_view s);

}  // namespace kubes::controller::cronjob
