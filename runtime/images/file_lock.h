// FileLock — an flock(2) on a file, held for the life of the object. The image store
// uses it to share its directory between threads and between processes (`kubes image`
// next to a running server). Each FileLock opens its own file description, so two
// threads of one process exclude each other just as two processes do.
//
// Thread-safety: one owner; movable, not copyable.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "util/status.h"

namespace kubes::runtime::images {

class FileLock {
 public:
  // Waits for the lock when wait; otherwise Conflict when someone else holds it.
  static Result<FileLock> Acquire(const std::string& path, bool exclusive, bool wait) {
    FileLock l(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (l.fd_ < 0) return Internal("open " + path + ": " + std::strerror(errno));
    const int op = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);
    while (flock(l.fd_, op) != 0) {
      if (errno == EINTR) continue;
      if (errno == EWOULDBLOCK) return Conflict(path + " is held by another pull, import or removal");
      return Internal("flock " + path + ": " + std::strerror(errno));
    }
    return l;
  }
  FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock() {
    if (fd_ >= 0) close(fd_);  // closing the description releases the lock
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace kubes::runtime::images
