#include "kubelet/prober/net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace kubes::kubelet::prober {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Go spells system errors in lower case ("connection refused").
std::string ErrnoText(int err) {
  std::string s = strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

std::string AddrString(const sockaddr_storage& a) {
  char host[INET6_ADDRSTRLEN] = {0};
  int port = 0;
  if (a.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
  }
  return JoinHostPort(host, port);
}

// "10.42.0.1:51234->10.42.0.7:8080", as Go names a connection in read/write errors.
std::string ConnString(int fd) {
  sockaddr_storage local{}, remote{};
  socklen_t ll = sizeof local, rl = sizeof remote;
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll);
  getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &rl);
  return AddrString(local) + "->" + AddrString(remote);
}

Status SendAll(int fd, std::string_view data, Deadline deadline, const std::atomic<bool>* cancel) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      Status s = WaitReady(fd, POLLOUT, deadline, cancel);
      if (!s.ok()) return s;
      continue;
    }
    return SocketError("write", fd, n < 0 ? errno : EPIPE);
  }
  return Status::OK();
}

Result<size_t> RecvSome(int fd, char* buf, size_t n, Deadline deadline, const std::atomic<bool>* cancel) {
  while (true) {
    ssize_t k = recv(fd, buf, n, 0);
    if (k >= 0) return static_cast<size_t>(k);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      Status s = WaitReady(fd, POLLIN, deadline, cancel);
      if (!s.ok()) return s;
      continue;
    }
    return SocketError("read", fd, errno);
  }
}

class PlainStream : public Stream {
 public:
  PlainStream(UniqueFd fd, const std::atomic<bool>* cancel) : fd_(std::move(fd)), cancel_(cancel) {}
  Status Write(std::string_view data, Deadline deadline) override {
    return SendAll(fd_.get(), data, deadline, cancel_);
  }
  Result<size_t> Read(char* buf, size_t n, Deadline deadline) override {
    return RecvSome(fd_.get(), buf, n, deadline, cancel_);
  }

 private:
  UniqueFd fd_;
  const std::atomic<bool>* cancel_;
};

// One client context for every TLS probe: no verification, as upstream's
// InsecureSkipVerify.
SSL_CTX* ClientContext() {
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    return c;
  }();
  return ctx;
}

// "tls: <reason>" for the oldest error OpenSSL queued on this thread.
std::string TLSError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  const char* reason = e ? ERR_reason_error_string(e) : nullptr;
  return std::string("tls: ") + (reason ? reason : "handshake failure");
}

// TLS over memory BIOs: OpenSSL never touches the socket, so every read and write
// keeps the deadline, and the first bytes the server sends can be checked for a plain
// HTTP answer.
class TLSStream : public Stream {
 public:
  TLSStream(UniqueFd fd, const std::atomic<bool>* cancel) : fd_(std::move(fd)), cancel_(cancel) {
    ssl_ = SSL_new(ClientContext());
    rbio_ = BIO_new(BIO_s_mem());
    wbio_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio_, -1);
    SSL_set_bio(ssl_, rbio_, wbio_);  // the SSL owns both BIOs from here
    SSL_set_connect_state(ssl_);
  }
  ~TLSStream() override { SSL_free(ssl_); }

  Status Handshake(const std::string& server_name, Deadline deadline) {
    // Like Go: SNI only for names, not for IP addresses.
    in6_addr any;
    if (!server_name.empty() && inet_pton(AF_INET, server_name.c_str(), &any) != 1 &&
        inet_pton(AF_INET6, server_name.c_str(), &any) != 1) {
      SSL_set_tlsext_host_name(ssl_, server_name.c_str());
    }
    while (true) {
      ERR_clear_error();
      int r = SSL_do_handshake(ssl_);
      Status flushed = Flush(deadline);
      if (!flushed.ok()) return flushed;
      if (r == 1) return Status::OK();
      if (LooksLikeHTTP()) return Status(Code::kServiceUnavailable, std::string(kHTTPResponseToHTTPSClient));
      if (SSL_get_error(ssl_, r) != SSL_ERROR_WANT_READ) return Status(Code::kServiceUnavailable, TLSError());
      Result<bool> more = Fill(deadline);
      if (!more.ok()) return more.status();
      if (!*more) return Status(Code::kServiceUnavailable, "EOF");
    }
  }

  Status Write(std::string_view data, Deadline deadline) override {
    size_t done = 0;
    while (done < data.size()) {
      ERR_clear_error();
      int r = SSL_write(ssl_, data.data() + done, static_cast<int>(std::min<size_t>(data.size() - done, 1 << 20)));
      if (r <= 0) return Status(Code::kServiceUnavailable, TLSError());
      done += static_cast<size_t>(r);
      Status s = Flush(deadline);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  Result<size_t> Read(char* buf, size_t n, Deadline deadline) override {
    while (true) {
      ERR_clear_error();
      int r = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(n, 1 << 20)));
      if (r > 0) return static_cast<size_t>(r);
      int err = SSL_get_error(ssl_, r);
      if (err == SSL_ERROR_ZERO_RETURN) return size_t{0};
      if (err != SSL_ERROR_WANT_READ) return Status(Code::kServiceUnavailable, TLSError());
      Status s = Flush(deadline);  // a key update may want to write
      if (!s.ok()) return s;
      Result<bool> more = Fill(deadline);
      if (!more.ok()) return more.status();
      if (!*more) return size_t{0};  // closed without close_notify: the end all the same
    }
  }

 private:
  // Sends what OpenSSL queued in the write BIO.
  Status Flush(Deadline deadline) {
    char buf[16384];
    int n;
    while ((n = BIO_read(wbio_, buf, sizeof buf)) > 0) {
      Status s = SendAll(fd_.get(), std::string_view(buf, static_cast<size_t>(n)), deadline, cancel_);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }
  // Reads from the socket into the read BIO; false at the end of the stream.
  Result<bool> Fill(Deadline deadline) {
    char buf[16384];
    Result<size_t> n = RecvSome(fd_.get(), buf, sizeof buf, deadline, cancel_);
    if (!n.ok()) return n.status();
    if (*n == 0) return false;
    if (first_.size() < 5) first_.append(buf, std::min<size_t>(*n, 5 - first_.size()));
    BIO_write(rbio_, buf, static_cast<int>(*n));
    return true;
  }
  bool LooksLikeHTTP() const { return first_ == "HTTP/"; }

  UniqueFd fd_;
  const std::atomic<bool>* cancel_;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;
  BIO* wbio_ = nullptr;
  std::string first_;  // the first bytes the server sent
};

}  // namespace

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

std::string JoinHostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Status WaitReady(int fd, short events, Deadline deadline, const std::atomic<bool>* cancel) {
  while (true) {
    if (cancel && cancel->load()) return Status(Code::kServiceUnavailable, "cancelled");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return Status(Code::kTimeout, "i/o timeout");
    // With a cancel flag, wake up now and then to look at it.
    int wait = static_cast<int>(cancel ? std::min<int64_t>(left.count(), 100) : left.count());
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, wait);
    if (n > 0) return Status::OK();
    if (n < 0 && errno != EINTR) return Status(Code::kInternal, std::string("poll: ") + strerror(errno));
  }
}

Status SocketError(const char* op, int fd, int err) {
  return Status(Code::kServiceUnavailable,
                std::string(op) + " tcp " + ConnString(fd) + ": " + op + ": " + ErrnoText(err));
}

std::string DialTimeout(const std::string& addr) { return "dial tcp " + addr + ": i/o timeout"; }

Result<UniqueFd> StartConnect(const std::string& host, int port, bool* connected) {
  std::string addr = JoinHostPort(host, port);
  sockaddr_storage to{};
  socklen_t to_len = 0;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&to);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&to);
  // An IP address (the pod's, nearly always) needs no resolver.
  if (inet_pton(AF_INET, host.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(static_cast<uint16_t>(port));
    to_len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<uint16_t>(port));
    to_len = sizeof(sockaddr_in6);
  } else {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found) {
      return Status(Code::kServiceUnavailable, "dial tcp: lookup " + host + ": no such host");
    }
    std::memcpy(&to, found->ai_addr, std::min<size_t>(found->ai_addrlen, sizeof to));
    to_len = found->ai_addrlen;
    freeaddrinfo(found);
  }
  UniqueFd fd(socket(to.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Status(Code::kInternal, "dial tcp " + addr + ": socket: " + ErrnoText(errno));
  int r = connect(fd.get(), reinterpret_cast<sockaddr*>(&to), to_len);
  if (r < 0 && errno != EINPROGRESS) {
    return Status(Code::kServiceUnavailable, "dial tcp " + addr + ": connect: " + ErrnoText(errno));
  }
  *connected = r == 0;
  return fd;
}

Status ConnectResult(int fd, const std::string& addr) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return Status(Code::kServiceUnavailable, "dial tcp " + addr + ": connect: " + ErrnoText(err));
  return Status::OK();
}

Result<UniqueFd> DialTCP(const std::string& host, int port, Deadline deadline, const std::atomic<bool>* cancel) {
  bool connected = false;
  auto fd = StartConnect(host, port, &connected);
  if (!fd.ok() || connected) return fd;
  std::string addr = JoinHostPort(host, port);
  Status ready = WaitReady(fd->get(), POLLOUT, deadline, cancel);
  if (ready.code() == Code::kTimeout) return Status(Code::kTimeout, DialTimeout(addr));
  if (!ready.ok()) return Status(ready.code(), "dial tcp " + addr + ": " + ready.message());
  Status result = ConnectResult(fd->get(), addr);
  if (!result.ok()) return result;
  return fd;
}

std::unique_ptr<Stream> NewPlainStream(UniqueFd fd, const std::atomic<bool>* cancel) {
  return std::make_unique<PlainStream>(std::move(fd), cancel);
}

Result<std::unique_ptr<Stream>> NewTLSStream(UniqueFd fd, const std::string& server_name, Deadline deadline,
                                             const std::atomic<bool>* cancel) {
  auto s = std::make_unique<TLSStream>(std::move(fd), cancel);
  Status h = s->Handshake(server_name, deadline);
  if (!h.ok()) return h;
  return std::unique_ptr<Stream>(std::move(s));
}

}  // namespace kubes::kubelet::prober
