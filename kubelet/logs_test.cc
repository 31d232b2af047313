#include "kubelet/logs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace kubes::kubelet {
namespace {

TEST(LogsTest, CRIFormatTailSinceTimestampsAndPartialLines) {
  std::string path = "/tmp/kubes-logs-test-" + std::to_string(getpid()) + ".log";
  std::ofstream(path) << "2026-01-01T00:00:01.000000001+00:00 stdout F one\n"
                         "2026-01-01T00:00:02.5+00:00 stderr F two\n"
                         "2026-01-01T00:00:03+00:00 stdout P thr\n"
                         "2026-01-01T00:00:03.1+00:00 stdout F ee\n"
                         "2026-01-01T00:00:04+00:00 stdout F \n"
                         "2026-01-01T00:00:05+00:00 stdout F incomplete-without-newline";
  LogOptions o;
  EXPECT_EQ(ReadLog(path, o, nullptr), "one\ntwo\nthree\n\n");
  o.tail_lines = 2;
  EXPECT_EQ(ReadLog(path, o, nullptr), "three\n\n");
  o.tail_lines = -1;
  o.since = ParseRFC3339("2026-01-01T00:00:02Z");
  EXPECT_EQ(ReadLog(path, o, nullptr), "two\nthree\n\n");
  o.since.reset();
  o.timestamps = true;
  o.tail_lines = 1;
  EXPECT_EQ(ReadLog(path, o, nullptr), "2026-01-01T00:00:04.000000000Z \n");
  o = LogOptions();
  o.limit_bytes = 5;
  EXPECT_EQ(ReadLog(path, o, nullptr), "one\nt");
  unlink(path.c_str());
}

}  // namespace
}  // namespace kubes::kubelet
