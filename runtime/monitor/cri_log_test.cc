#include "runtime/monitor/cri_log.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "util/time.h"

namespace kubes::monitor {
namespace {

constexpr std::string_view kTime = "2026-11-28T10:34:11.000000005+00:00";

// What WriteCRILines puts in a file.
std::string Written(Stream stream, std::string_view chunk) {
  int fd = memfd_create("cri", 0);
  EXPECT_GE(fd, 0);
  EXPECT_TRUE(WriteCRILines(fd, kTime, stream, chunk));
  std::string out(lseek(fd, 0, SEEK_CUR), '\0');
  EXPECT_EQ(pread(fd, out.data(), out.size(), 0), static_cast<ssize_t>(out.size()));
  close(fd);
  return out;
}

TEST(CRILogTest, FramesLinesAsCompleteOrPartial) {
  const std::string t(kTime);
  struct Case {
    const char* name;
    Stream stream;
    std::string chunk;
    std::string want;
  } cases[] = {
      {"one line", Stream::kStdout, "out\n", t + " stdout F out\n"},
      {"stderr", Stream::kStderr, "err\n", t + " stderr F err\n"},
      {"two lines", Stream::kStdout, "a\nb\n", t + " stdout F a\n" + t + " stdout F b\n"},
      {"no newline yet", Stream::kStdout, "abc", t + " stdout P abc\n"},
      {"line then a piece", Stream::kStderr, "a\nbc", t + " stderr F a\n" + t + " stderr P bc\n"},
      {"empty line", Stream::kStdout, "\n", t + " stdout F \n"},
      {"empty lines", Stream::kStdout, "\n\nx\n", t + " stdout F \n" + t + " stdout F \n" + t + " stdout F x\n"},
      {"nothing", Stream::kStdout, "", ""},
      {"carriage return kept", Stream::kStdout, "a\r\n", t + " stdout F a\r\n"},
  };
  for (const auto& c : cases) EXPECT_EQ(Written(c.stream, c.chunk), c.want) << c.name;
}

TEST(CRILogTest, ManyLinesInOneChunk) {
  // More lines than one writev batch holds.
  std::string chunk, want;
  for (int i = 0; i < 1000; ++i) {
    chunk += std::to_string(i) + "\n";
    want += std::string(kTime) + " stdout F " + std::to_string(i) + "\n";
  }
  chunk += "tail";
  want += std::string(kTime) + " stdout P tail\n";
  EXPECT_EQ(Written(Stream::kStdout, chunk), want);
}

TEST(CRILogTest, LongLineSplitByReadsJoinsAgain) {
  // A 10000-byte line read 8192 bytes at a time: P, then F with the rest.
  std::string line(10000, 'a');
  std::string got = Written(Stream::kStdout, std::string_view(line).substr(0, 8192)) +
                    Written(Stream::kStdout, std::string_view(line + "\n").substr(8192));
  std::string prefix = std::string(kTime) + " stdout ";
  EXPECT_EQ(got, prefix + "P " + line.substr(0, 8192) + "\n" + prefix + "F " + line.substr(8192) + "\n");
}

TEST(CRILogTest, Timestamps) {
  struct Case {
    long nsec;
    int year, mon, day, hour, min, sec;
    long gmtoff;
    const char* want;
  } cases[] = {
      {5, 2026, 10, 28, 10, 34, 11, 0, "2026-11-28T10:34:11.000000005+00:00"},
      {123456789, 1999, 0, 1, 0, 0, 0, 3600, "1999-01-01T00:00:00.123456789+01:00"},
      {999999999, 2030, 11, 31, 23, 59, 59, -(4 * 3600 + 30 * 60), "2030-12-31T23:59:59.999999999-04:30"},
      {0, 2000, 1, 29, 12, 5, 7, 5 * 3600 + 45 * 60, "2000-02-29T12:05:07.000000000+05:45"},
  };
  for (const auto& c : cases) {
    tm local{};
    local.tm_year = c.year - 1900;
    local.tm_mon = c.mon;
    local.tm_mday = c.day;
    local.tm_hour = c.hour;
    local.tm_min = c.min;
    local.tm_sec = c.sec;
    local.tm_gmtoff = c.gmtoff;
    char out[kTimestampSize];
    FormatTimestamp(timespec{0, c.nsec}, local, out);
    EXPECT_STREQ(out, c.want);
  }
}

TEST(CRILogTest, TheKubeletReadsTheTimestamp) {
  // kubelet/logs.cc parses the time with ParseRFC3339: the same instant must come back.
  timespec now{1800000000, 123456789};
  tm local;
  localtime_r(&now.tv_sec, &local);
  char out[kTimestampSize];
  FormatTimestamp(now, local, out);
  auto parsed = ParseRFC3339(out);
  ASSERT_TRUE(parsed.has_value()) << out;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(parsed->time_since_epoch()).count();
  EXPECT_EQ(ns, 1800000000LL * 1000000000LL + 123456789) << out;
}

TEST(CRILogTest, LogFileReopensAfterRename) {
  char dir[] = "/tmp/cri-log-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/0.log", rotated = path + ".1";
  LogFile log;
  ASSERT_TRUE(log.Open(path.c_str()));
  log.Write(Stream::kStdout, "before\n");
  ASSERT_EQ(rename(path.c_str(), rotated.c_str()), 0);
  log.Write(Stream::kStdout, "still old\n");
  ASSERT_TRUE(log.Reopen());
  log.Write(Stream::kStderr, "after\n");
  auto read = [](const std::string& p) {
    FILE* f = fopen(p.c_str(), "r");
    std::string s;
    char buf[256];
    size_t n;
    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    if (f) fclose(f);
    return s;
  };
  std::string old_text = read(rotated), new_text = read(path);
  EXPECT_NE(old_text.find(" stdout F before\n"), std::string::npos) << old_text;
  EXPECT_NE(old_text.find(" stdout F still old\n"), std::string::npos) << old_text;
  EXPECT_EQ(new_text.find("before"), std::string::npos) << new_text;
  EXPECT_NE(new_text.find(" stderr F after\n"), std::string::npos) << new_text;
  unlink(path.c_str());
  unlink(rotated.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace kubes::monitor
