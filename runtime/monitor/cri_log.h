// CRI container logs as kubes-monitor writes them (upstream: the format containerd's
// cio and CRI-O's conmon write, which the kubelet reads in pkg/kubelet/kuberuntime/logs;
// here kubelet/logs.cc reads it). Every read of a container's stdout or stderr becomes
// one line per piece of text:
//
//   2026-11-28T10:34:11.123456789+00:00 stdout F hello
//   2026-11-28T10:34:11.123456789+00:00 stderr P first 8192 bytes of a long line
//   2026-11-28T10:34:11.130000001+00:00 stderr F its rest
//
// F ends a line of the container's output; P is a piece the next line of the same
// stream continues — what a read returned after the last newline (a line longer than
// the read buffer, or output written without a newline yet). The time is local time
// with nanoseconds and the numeric offset, taken once per read, as conmon writes it.
//
// Thread-safety: none needed (the monitor has one thread). No allocation: the monitor
// stays small.
#pragma once

#include <cstddef>
#include <ctime>
#include <string_view>

namespace kubes::monitor {

enum class Stream { kStdout, kStderr };

// "YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+HH:MM" and a NUL.
inline constexpr size_t kTimestampSize = 36;

// `t` formatted with `local` (its broken-down local time, tm_gmtoff its offset).
void FormatTimestamp(const timespec& t, const tm& local, char (&out)[kTimestampSize]);

// Appends `chunk` to the file `fd` as CRI lines stamped `timestamp`. Returns false
// when the file could not be written (the caller goes on: output is never held up).
bool WriteCRILines(int fd, std::string_view timestamp, Stream stream, std::string_view chunk);

// The container's log file. The kubelet rotates it by renaming it and then asks for
// Reopen, which starts a new file at the same path.
class LogFile {
 public:
  // REQUIRES: `path` outlives the LogFile. False when it cannot be opened.
  bool Open(const char* path);
  bool Reopen();
  // Writes `chunk` stamped with the current time.
  void Write(Stream stream, std::string_view chunk);

 private:
  const char* path_ = nullptr;
  int fd_ = -1;
};

}  // namespace kubes::monitor
