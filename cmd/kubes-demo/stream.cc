#include "stream.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

namespace kubes::demo {
namespace {

class PlainStream : public Stream {
 public:
  explicit PlainStream(int fd) : fd_(fd) {}
  ~PlainStream() override { close(fd_); }

  long Read(char* buffer, size_t n) override {
    while (true) {
      ssize_t r = recv(fd_, buffer, n, 0);
      if (r >= 0) return r;
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? kTimeout : kError;
    }
  }

  bool WriteAll(std::string_view data) override {
    while (!data.empty()) {
      ssize_t w = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      data.remove_prefix(static_cast<size_t>(w));
    }
    return true;
  }

 private:
  const int fd_;
};

}  // namespace

std::unique_ptr<Stream> NewPlainStream(int fd) { return std::make_unique<PlainStream>(fd); }

}  // namespace kubes::demo
