// The benchmark's measurements, one function per phase. Each starts the servers it
// needs in its own temporary directory under Config::work_dir, measures, stops them
// and appends rows to the report.
//
//   MeasureStartup   — 5 fresh starts: fork to /readyz 200, and idle VmRSS.
//   MeasureApi       — one server: ConfigMap create/get/update with 4 clients; 10k
//                      Pods listed as JSON and as Table; 1,000 watchers' delivery
//                      latency; then the etcd peer doing the same key-value work.
//   MeasureDisk      — one object updated 100k times: data-dir size, before and after
//                      a compaction when one can be had.
//
// Thread-safety: called from the main thread, one after the other.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "bench/load.h"

namespace kubes::bench {

struct Config {
  std::string kubes;     // path of the kubes binary
  std::string etcd;      // path of etcd, "" to skip the peer
  std::string work_dir;  // parent of every temporary directory
  double scale = 1.0;    // multiplies every count, for quick trial runs
  bool wait_compaction = false;  // without a flag to shorten it, wait out two 5-minute intervals
  int clients = 4;
  Clock::time_point deadline;  // nothing new starts after this

  int Scaled(int n) const { return std::max(1, static_cast<int>(n * scale)); }
};

// One line of the results table.
struct Row {
  std::string what;
  std::string result;
  std::string target;   // "" when there is none
  std::string verdict;  // "ok", "MISS" or ""
};

Status MeasureStartup(const Config& config, std::vector<Row>& rows);
Status MeasureApi(const Config& config, std::vector<Row>& rows);
Status MeasureDisk(const Config& config, std::vector<Row>& rows);

// printf into a std::string.
std::string Fmt(const char* format, ...) __attribute__((format(printf, 1, 2)));
// "ok" if value < limit, else "MISS".
std::string Verdict(double value, double limit);

}  // namespace kubes::bench
