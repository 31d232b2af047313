#include "runtime/monitor/cri_log.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

namespace kubes::monitor {
namespace {

// Writes `digits` decimal digits of `v`, zero-padded, and returns the end.
char* PutDigits(char* p, long v, int digits) {
  for (int i = digits - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + digits;
}

// writev until everything is written; a short write (a signal, a full disk) resumes
// where it stopped.
bool WriteAll(int fd, iovec* iov, int count) {
  while (count > 0) {
    ssize_t n = writev(fd, iov, count);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    while (count > 0 && static_cast<size_t>(n) >= iov->iov_len) {
      n -= static_cast<ssize_t>(iov->iov_len);
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + n;
      iov->iov_len -= n;
    }
  }
  return true;
}

}  // namespace

void FormatTimestamp(const timespec& t, const tm& local, char (&out)[kTimestampSize]) {
  char* p = PutDigits(out, local.tm_year + 1900, 4);
  *p++ = '-';
  p = PutDigits(p, local.tm_mon + 1, 2);
  *p++ = '-';
  p = PutDigits(p, local.tm_mday, 2);
  *p++ = 'T';
  p = PutDigits(p, local.tm_hour, 2);
  *p++ = ':';
  p = PutDigits(p, local.tm_min, 2);
  *p++ = ':';
  p = PutDigits(p, local.tm_sec, 2);
  *p++ = '.';
  p = PutDigits(p, t.tv_nsec, 9);
  long offset = local.tm_gmtoff;
  *p++ = offset < 0 ? '-' : '+';
  if (offset < 0) offset = -offset;
  p = PutDigits(p, offset / 3600, 2);
  *p++ = ':';
  p = PutDigits(p, offset % 3600 / 60, 2);
  *p = '\0';
}

bool WriteCRILines(int fd, std::string_view timestamp, Stream stream, std::string_view chunk) {
  // "<time> stdout F " and "<time> stdout P ": the prefixes of complete and partial lines.
  char full[kTimestampSize + 16], partial[kTimestampSize + 16];
  std::string_view name = stream == Stream::kStdout ? " stdout " : " stderr ";
  size_t len = 0;
  for (std::string_view part : {timestamp, name, std::string_view("F ")}) {
    for (char c : part) full[len++] = c;
  }
  for (size_t i = 0; i < len; ++i) partial[i] = full[i];
  partial[len - 2] = 'P';

  // Lines go out in batches of up to kLines (three pieces each) per writev.
  constexpr int kLines = 64;
  iovec iov[kLines * 3];
  int count = 0;
  static char newline = '\n';
  bool ok = true;
  while (!chunk.empty()) {
    size_t nl = chunk.find('\n');
    bool complete = nl != std::string_view::npos;
    size_t text = complete ? nl : chunk.size();
    iov[count++] = {complete ? full : partial, len};
    iov[count++] = {const_cast<char*>(chunk.data()), text};
    iov[count++] = {&newline, 1};
    chunk.remove_prefix(complete ? nl + 1 : text);
    if (count == kLines * 3 || chunk.empty()) {
      ok = WriteAll(fd, iov, count) && ok;
      count = 0;
    }
  }
  return ok;
}

bool LogFile::Open(const char* path) {
  path_ = path;
  fd_ = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  return fd_ >= 0;
}

bool LogFile::Reopen() {
  int fd = open(path_, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return false;  // keep writing to the old file rather than nowhere
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
  return true;
}

void LogFile::Write(Stream stream, std::string_view chunk) {
  if (fd_ < 0) return;
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  tm local;
  localtime_r(&now.tv_sec, &local);
  char stamp[kTimestampSize];
  FormatTimestamp(now, local, stamp);
  (void)WriteCRILines(fd_, std::string_view(stamp, kTimestampSize - 1), stream, chunk);
}

}  // namespace kubes::monitor
