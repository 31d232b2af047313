// libFuzzer harness for the cron schedule parser and the zoneinfo reader: arbitrary
// bytes must never crash either, and Next must terminate.
//
// Input layout: the first byte picks what the rest is —
//   even: a schedule spec (read in UTC), then Next from a time taken from its bytes;
//   odd:  TZif data up to the first "\n@@\n", then a spec read in that zone.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "controller/cronjob/schedule.h"
#include "controller/cronjob/timezone.h"

using namespace kubes::controller::cronjob;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::shared_ptr<const Location> zone = Location::UTC();
  std::string_view spec = in;
  if (data[0] % 2 == 1) {
    size_t sep = in.find("\n@@\n");
    std::string_view tzif = in.substr(0, sep);
    spec = sep == std::string_view::npos ? std::string_view() : in.substr(sep + 4);
    auto loc = Location::FromTZif(tzif, "fuzz");
    if (!loc.ok()) {
      loc = Location::FromPosix(tzif, "fuzz");
      if (!loc.ok()) return 0;
    }
    zone = *loc;
    (void)zone->FormatRFC3339(static_cast<int64_t>(size) * 1000003);
    (void)zone->FromCivil(2024, static_cast<int64_t>(size % 40) - 5, 31, 2, 30, 0);
  }
  // Keep specs short: a valid one may legitimately take a while to find "never".
  if (spec.size() > 256) return 0;
  auto s = Schedule::Parse(spec, zone);
  if (!s.ok()) return 0;
  int64_t seed = 0;
  for (size_t i = 0; i < size && i < 8; ++i) seed = seed * 131 + data[i];
  auto from = std::chrono::system_clock::from_time_t(1700000000 + seed % 400000000);
  (void)s->Next(from);
  return 0;
}
