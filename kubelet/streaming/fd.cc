#include "kubelet/streaming/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

namespace kubes::kubelet::streaming {

void SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

ssize_t WriteNoSigpipe(int fd, const char* data, size_t n) {
  ssize_t r = send(fd, data, n, MSG_NOSIGNAL);
  if (r >= 0 || errno != ENOTSOCK) return r;
  // A pipe or a terminal: hold SIGPIPE back on this thread for the write and take
  // away the one it raised, if any (a blocked signal sent to a thread stays pending
  // on that thread).
  sigset_t sigpipe, old;
  sigemptyset(&sigpipe);
  sigaddset(&sigpipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &sigpipe, &old);
  r = write(fd, data, n);
  int saved = errno;
  if (r < 0 && saved == EPIPE) {
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) && !sigismember(&old, SIGPIPE)) {
      timespec zero{0, 0};
      sigtimedwait(&sigpipe, nullptr, &zero);
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return r;
}

}  // namespace kubes::kubelet::streaming
