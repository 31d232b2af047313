#include "log.h"

#include <time.h>

#include <cstdio>
#include <mutex>
#include <string>

namespace kubes::demo {

void LogLine(std::string_view message) {
  static std::mutex mu;
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  gmtime_r(&now.tv_sec, &utc);
  char stamp[40];
  size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  snprintf(stamp + n, sizeof stamp - n, ".%03ldZ ", now.tv_nsec / 1000000);
  std::string line = stamp;
  line += message;
  line += '\n';
  std::lock_guard lock(mu);
  fwrite(line.data(), 1, line.size(), stdout);
  fflush(stdout);
}

}  // namespace kubes::demo
