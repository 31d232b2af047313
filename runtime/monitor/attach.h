// The attach socket of one container (upstream: the attach socket CRI-O's conmon keeps;
// containerd's shim serves the same through FIFOs). `kubectl attach` reaches it through
// the kubelet (kubelet/attach.cc). It is an AF_UNIX SOCK_SEQPACKET socket, so message
// boundaries hold:
//   monitor → client: one packet per read of the container's output: 1 byte naming
//     the stream (2 stdout, 3 stderr; a terminal's output is stdout), then up to
//     kMaxChunk bytes;
//   client → monitor: the bytes of each packet go to the container's stdin; end of
//     input (the client shut down its sending side, or closed) may close that stdin
//     (stdinOnce).
// Output goes to every client at once. A client that takes no output for
// kSendTimeoutSeconds is dropped: it must not hold up the log.
//
// Thread-safety: none needed (the monitor has one thread).
#pragma once

#include <cstddef>

namespace kubes::monitor {

inline constexpr size_t kMaxChunk = 8192;

class AttachServer {
 public:
  static constexpr int kMaxClients = 16;
  static constexpr int kSendTimeoutSeconds = 5;

  // Listens at `path` (relative to the working directory: bundle paths can be longer
  // than a socket address allows). False with errno on failure.
  bool Listen(const char* path);
  int listen_fd() const { return listen_fd_; }

  // Accepts one waiting client: its descriptor, or -1 (none waiting, or too many).
  int Accept();
  bool IsClient(int fd) const;
  // Forgets and closes a client.
  void Drop(int fd);
  void DropAll();

  // Sends packet[0..1+n) with packet[0] set to the stream byte; `packet` has room for
  // it before the n bytes of output.
  void Broadcast(char stream, char* packet, size_t n);

  int count() const { return count_; }
  int client(int i) const { return clients_[i]; }

 private:
  int listen_fd_ = -1;
  int clients_[kMaxClients];
  int count_ = 0;
};

}  // namespace kubes::monitor
