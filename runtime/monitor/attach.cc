#include "runtime/monitor/attach.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kubes::monitor {

bool AttachServer::Listen(const char* path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return false;
  }
  strcpy(addr.sun_path, path);
  unlink(path);
  listen_fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return false;
  return bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && listen(listen_fd_, 8) == 0;
}

int AttachServer::Accept() {
  int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return -1;
  if (count_ == kMaxClients) {
    close(fd);
    return -1;
  }
  // Sends block (the container's output waits, as it would on a full pipe), but not
  // for longer than this: then the client is dropped.
  timeval timeout{kSendTimeoutSeconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  clients_[count_++] = fd;
  return fd;
}

bool AttachServer::IsClient(int fd) const {
  for (int i = 0; i < count_; ++i) {
    if (clients_[i] == fd) return true;
  }
  return false;
}

void AttachServer::Drop(int fd) {
  for (int i = 0; i < count_; ++i) {
    if (clients_[i] != fd) continue;
    close(fd);
    clients_[i] = clients_[--count_];
    return;
  }
}

void AttachServer::DropAll() {
  while (count_ > 0) Drop(clients_[0]);
}

void AttachServer::Broadcast(char stream, char* packet, size_t n) {
  packet[0] = stream;
  for (int i = 0; i < count_;) {
    int fd = clients_[i];
    ssize_t sent;
    do {
      sent = send(fd, packet, n + 1, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
      Drop(fd);  // gone or stuck; the slot now holds another client: look at i again
      continue;
    }
    ++i;
  }
}

}  // namespace kubes::monitor
