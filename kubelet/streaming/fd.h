// Small descriptor helpers shared by the exec and port-forward loops.
//
// Thread-safety: plain system calls; safe from any thread.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace kubes::kubelet::streaming {

// Sets O_NONBLOCK, so a poll loop never stalls on one descriptor.
void SetNonBlocking(int fd);

// write(2) that never raises SIGPIPE, whether or not the process ignores it: a
// process that closed its stdin, or a pod that reset its socket, must not take the
// server down. Returns -1 with errno EPIPE instead.
ssize_t WriteNoSigpipe(int fd, const char* data, size_t n);

}  // namespace kubes::kubelet::streaming
