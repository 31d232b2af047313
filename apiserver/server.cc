#include "apiserver/server.h"

#include <openssl/x509.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <set>

#include "util/strings.h"

namespace kubes::apiserver {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// An idle keep-alive connection is closed after this long.
constexpr int kIdleTimeoutSeconds = 600;

void ParseTarget(std::string_view target, Request& req) {
  auto q = target.find('?');
  req.path = PercentDecode(target.substr(0, q), true);
  if (q == std::string_view::npos) return;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1), true);
    if (!key.empty()) req.query.emplace(std::move(key), std::move(value));
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
}

// The identity in a verified client certificate: CN is the user, each O a group.
UserInfo UserFromCertificate(SSL* ssl) {
  UserInfo user;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return user;
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    X509_NAME* subject = X509_get_subject_name(cert);
    for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
      X509_NAME_ENTRY* e = X509_NAME_get_entry(subject, i);
      int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
      unsigned char* utf8 = nullptr;
      int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
      if (len < 0) continue;
      std::string value(reinterpret_cast<char*>(utf8), len);
      OPENSSL_free(utf8);
      if (nid == NID_commonName) user.name = value;
      if (nid == NID_organizationName) user.groups.push_back(value);
    }
    if (!user.name.empty()) user.groups.push_back("system:authenticated");
  }
  X509_free(cert);
  return user;
}

class Stream : public ResponseStream {
 public:
  explicit Stream(TlsStream& s) : s_(s) {}
  bool Write(const std::string& chunk) override {
    if (failed_) return false;
    beast::error_code ec;
    if (chunk.empty()) return true;
    net::write(s_, http::make_chunk(net::buffer(chunk)), ec);
    if (ec) failed_ = true;
    return !failed_;
  }
  bool PeerClosed() override {
    int fd = beast::get_lowest_layer(s_).socket().native_handle();
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    if (poll(&p, 1, 0) <= 0) return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  }

 private:
  TlsStream& s_;
  bool failed_ = false;
};

// The TLS connection after a 101. asio's TLS stream keeps decrypted and
// not-yet-decrypted bytes inside OpenSSL, so "would Read block" is the socket's
// readability or bytes pending in the SSL object or its input BIO. Bytes Beast read
// past the request header come first.
class Upgraded : public UpgradedConnection {
 public:
  Upgraded(TlsStream& s, std::string leftover) : s_(s), leftover_(std::move(leftover)) {}
  int PollFd() const override { return beast::get_lowest_layer(s_).socket().native_handle(); }
  bool Buffered() override {
    SSL* ssl = s_.native_handle();
    return !leftover_.empty() || SSL_pending(ssl) > 0 || BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0;
  }
  size_t Read(char* buf, size_t n) override {
    if (!leftover_.empty()) {
      size_t k = std::min(n, leftover_.size());
      std::memcpy(buf, leftover_.data(), k);
      leftover_.erase(0, k);
      return k;
    }
    beast::error_code ec;
    size_t k = s_.read_some(net::buffer(buf, n), ec);
    return ec ? 0 : k;
  }
  bool Write(const void* data, size_t n) override {
    if (failed_) return false;
    beast::error_code ec;
    net::write(s_, net::buffer(data, n), ec);
    if (ec) failed_ = true;
    return !failed_;
  }

 private:
  TlsStream& s_;
  std::string leftover_;
  bool failed_ = false;
};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  Handler handler;
  net::io_context io;
  ssl::context tls{ssl::context::tls_server};
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread accept_thread;
  std::atomic<bool> stopping{false};
  // Connections being served, so Stop can end them and wait for their threads.
  std::mutex conn_mu;
  std::condition_variable conn_done;
  std::set<int> open_fds;

  void AcceptLoop() {
    while (!stopping) {
      beast::error_code ec;
      tcp::socket socket(io);
      acceptor->accept(socket, ec);
      if (stopping) return;  // (Stop wakes accept with a connection of its own)
      if (ec) continue;
      int fd = socket.native_handle();
      {
        std::lock_guard<std::mutex> lock(conn_mu);
        open_fds.insert(fd);
      }
      std::thread([this, fd, s = std::move(socket)]() mutable {
        ServeConnection(std::move(s));
        std::lock_guard<std::mutex> lock(conn_mu);
        open_fds.erase(fd);
        conn_done.notify_all();
      }).detach();
    }
  }

  void ServeConnection(tcp::socket socket) {
    timeval tv{kIdleTimeoutSeconds, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    TlsStream stream(std::move(socket), tls);
    beast::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) return;
    UserInfo cert_user = UserFromCertificate(stream.native_handle());
    beast::flat_buffer buffer;
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(options.max_body_bytes);
      parser.header_limit(64 * 1024);
      http::read_header(stream, buffer, parser, ec);
      // A body over the limit is read and thrown away, so the client gets the 413
      // instead of a reset connection, then the connection closes. (Beast reports a
      // Content-Length over the limit while reading the header.)
      bool too_large = ec == http::error::body_limit ||
                       (!ec && parser.content_length() && *parser.content_length() > options.max_body_bytes);
      if (ec && !too_large) return;
      if (!too_large) {
        http::read(stream, buffer, parser, ec);
        too_large = ec == http::error::body_limit;
      }
      if (too_large) {
        DiscardBody(stream, buffer, parser.content_length() ? *parser.content_length() : 0);
        Response r;
        r.code = 413;
        r.body = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":"
                 "\"Request entity too large: limit is " + std::to_string(options.max_body_bytes) +
                 "\",\"reason\":\"RequestEntityTooLarge\",\"code\":413}";
        WriteResponse(stream, r, false, ec);
        return;
      }
      if (ec) return;
      auto& msg = parser.get();
      Request req;
      req.method = std::string(msg.method_string());
      ParseTarget(std::string_view(msg.target().data(), msg.target().size()), req);
      for (const auto& field : msg) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        // Repeated header lines are one list (X-Stream-Protocol-Version comes once per protocol).
        auto [it, fresh] = req.headers.emplace(name, std::string(field.value()));
        if (!fresh) it->second += ", " + std::string(field.value());
      }
      req.body = std::move(msg.body());
      req.user = cert_user;
      bool keep_alive = msg.keep_alive();
      Response resp = handler(req);
      if (resp.upgrade) {
        ServeUpgrade(stream, buffer, resp, ec);
        return;
      }
      if (resp.stream) {
        ServeStream(stream, resp, ec);
        return;  // a stream ends the connection's life
      }
      WriteResponse(stream, resp, keep_alive, ec);
      if (ec || !keep_alive) break;
    }
    stream.shutdown(ec);
  }

  // Reads and drops up to `length` body bytes (at most kMaxDiscard).
  static void DiscardBody(TlsStream& stream, beast::flat_buffer& buffer, uint64_t length) {
    constexpr uint64_t kMaxDiscard = 64ull << 20;
    uint64_t left = std::min(length, kMaxDiscard);
    uint64_t buffered = std::min<uint64_t>(buffer.size(), left);
    buffer.consume(buffered);
    left -= buffered;
    char chunk[64 * 1024];
    beast::error_code ec;
    while (left > 0) {
      size_t n = stream.read_some(net::buffer(chunk, std::min<uint64_t>(sizeof chunk, left)), ec);
      if (ec || n == 0) return;
      left -= n;
    }
  }

  static void AddHeaders(http::response_header<>& h, const Response& r) {
    h.set(http::field::content_type, r.content_type);
    h.set(http::field::cache_control, "no-cache, private");
    for (const auto& [k, v] : r.headers) h.insert(k, v);
  }

  void WriteResponse(TlsStream& stream, const Response& r, bool keep_alive, beast::error_code& ec) {
    http::response<http::string_body> res{static_cast<http::status>(r.code), 11};
    AddHeaders(res.base(), r);
    res.keep_alive(keep_alive);
    res.body() = r.body;
    res.prepare_payload();
    http::write(stream, res, ec);
  }

  void ServeUpgrade(TlsStream& stream, beast::flat_buffer& buffer, const Response& r, beast::error_code& ec) {
    // No receive timeout once upgraded: an exec session may sit idle for long.
    timeval none{0, 0};
    setsockopt(beast::get_lowest_layer(stream).socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    http::response<http::empty_body> res{static_cast<http::status>(r.code), 11};
    for (const auto& [k, v] : r.headers) res.insert(k, v);
    http::write(stream, res, ec);
    if (ec) return;
    std::string leftover(static_cast<const char*>(buffer.data().data()), buffer.size());
    buffer.consume(buffer.size());
    Upgraded conn(stream, std::move(leftover));
    try {
      r.upgrade(conn);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "kubes: internal error in an upgraded connection: %s\n", e.what());
    }
    stream.shutdown(ec);
  }

  void ServeStream(TlsStream& stream, const Response& r, beast::error_code& ec) {
    http::response<http::empty_body> res{static_cast<http::status>(r.code), 11};
    AddHeaders(res.base(), r);
    res.chunked(true);
    res.keep_alive(false);
    http::response_serializer<http::empty_body> sr{res};
    http::write_header(stream, sr, ec);
    if (ec) return;
    Stream s(stream);
    try {
      r.stream(s);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "kubes: internal error in a streamed response: %s\n", e.what());
    }
    net::write(stream, http::make_chunk_last(), ec);
    stream.shutdown(ec);
  }
};

Server::Server(ServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
}

Server::~Server() { Stop(); }

Status Server::Start() {
  Impl& s = *impl_;
  try {
    s.tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    s.tls.use_certificate_chain_file(s.options.cert_file);
    s.tls.use_private_key_file(s.options.key_file, ssl::context::pem);
    if (!s.options.client_ca_file.empty()) {
      s.tls.load_verify_file(s.options.client_ca_file);
      // Ask for a client certificate; requests without one may still use a token.
      s.tls.set_verify_mode(ssl::verify_peer);
      s.tls.set_verify_callback([](bool, ssl::verify_context&) { return true; });  // checked per request
      SSL_CTX_set_client_CA_list(s.tls.native_handle(), SSL_load_client_CA_file(s.options.client_ca_file.c_str()));
    }
    auto addr = net::ip::make_address(s.options.address);
    s.acceptor = std::make_unique<tcp::acceptor>(s.io);
    tcp::endpoint ep(addr, static_cast<unsigned short>(s.options.port));
    s.acceptor->open(ep.protocol());
    s.acceptor->set_option(net::socket_base::reuse_address(true));
    s.acceptor->bind(ep);
    s.acceptor->listen(net::socket_base::max_listen_connections);
    port_ = s.acceptor->local_endpoint().port();
  } catch (const std::exception& e) {
    return Internal(std::string("listen on ") + s.options.address + ":" + std::to_string(s.options.port) + ": " + e.what());
  }
  s.accept_thread = std::thread([&s] { s.AcceptLoop(); });
  return Status::OK();
}

void Server::Stop() {
  if (!impl_ || !impl_->acceptor) return;
  impl_->stopping = true;
  beast::error_code ec;
  impl_->acceptor->cancel(ec);
  // Wake the blocking accept() with a connection of our own.
  try {
    tcp::socket poke(impl_->io);
    poke.connect(impl_->acceptor->local_endpoint(), ec);
  } catch (...) {
  }
  impl_->acceptor->close(ec);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  impl_->acceptor.reset();
  // End every open connection (blocked reads return) and wait for their threads, which
  // use this object, to finish.
  std::unique_lock<std::mutex> lock(impl_->conn_mu);
  for (int fd : impl_->open_fds) ::shutdown(fd, SHUT_RDWR);
  impl_->conn_done.wait_for(lock, std::chrono::seconds(5), [this] { return impl_->open_fds.empty(); });
}

}  // namespace kubes::apiserver
