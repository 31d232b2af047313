#include "server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <thread>

namespace kubes::demo {
namespace {

// A connected TCP socket to 127.0.0.1:port, or -1.
int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

void SendAll(int fd, const std::string& data) {
  ASSERT_EQ(send(fd, data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
}

// Everything the server sends until it closes the connection.
std::string ReadToEnd(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// A server on free ports, running in a thread; stopped and joined by the destructor.
class ServerTest : public ::testing::Test {
 protected:
  void Start(TlsContext* tls = nullptr) {
    server_ = std::make_unique<Server>(&app_, tls);
    std::string error;
    ASSERT_TRUE(server_->Listen(0, 0, &error)) << error;
    runner_ = std::thread([this] { server_->Run(); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (runner_.joinable()) runner_.join();
  }

  Control control_{[] { return std::chrono::steady_clock::now(); }};
  App app_{PodInfo{}, &control_, [](Duration d) { std::this_thread::sleep_for(d); }};
  std::unique_ptr<Server> server_;
  std::thread runner_;
};

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Start();
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "GET /healthz HTTP/1.1\r\n\r\nGET /control/readyz?state=fail HTTP/1.1\r\n\r\n"
              "HEAD /readyz HTTP/1.1\r\nConnection: close\r\n\r\n");
  std::string got = ReadToEnd(fd);
  close(fd);
  EXPECT_EQ(got,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n"
            "Connection: keep-alive\r\n\r\nok\n"
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n"
            "Connection: keep-alive\r\n\r\nreadyz: fail\n"
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 22\r\n"
            "Connection: close\r\n\r\n");
}

TEST_F(ServerTest, ARequestInPiecesIsAnsweredOnceComplete) {
  Start();
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "GET /hea");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // across the server's read timeout
  SendAll(fd, "ders HTTP/1.0\r\nX-A: b\r\n\r\n");
  std::string got = ReadToEnd(fd);
  close(fd);
  EXPECT_TRUE(got.ends_with("\r\n\r\nGET /headers HTTP/1.0\nX-A: b\n")) << got;
}

TEST_F(ServerTest, BadRequestIsAnsweredAndClosed) {
  Start();
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "GET / HTTP/3.0\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  std::string got = ReadToEnd(fd);
  close(fd);
  EXPECT_EQ(got,
            "HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 27\r\nConnection: close\r\n\r\nonly HTTP/1.x is supported\n");
}

TEST_F(ServerTest, StopFinishesTheRequestInFlightAndRefusesNewConnections) {
  Start();
  int busy = Connect(server_->port());
  int idle = Connect(server_->port());
  ASSERT_GE(busy, 0);
  ASSERT_GE(idle, 0);
  SendAll(busy, "GET /sleep?ms=700 HTTP/1.1\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the sleep has started
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  runner_.join();  // Run returns once both connections are gone
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  std::string got = ReadToEnd(busy);
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK\r\n")) << got;
  EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
  EXPECT_TRUE(got.ends_with("slept 700ms\n")) << got;
  EXPECT_EQ(ReadToEnd(idle), "") << "an idle keep-alive connection is just closed";
  close(busy);
  close(idle);
  EXPECT_EQ(Connect(server_->port()), -1) << "the listener is closed";
}

TEST_F(ServerTest, ExitEndsTheProcessWithTheCode) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        Start();
        int fd = Connect(server_->port());
        SendAll(fd, "GET /exit?code=3 HTTP/1.1\r\n\r\n");
        ReadToEnd(fd);
        std::this_thread::sleep_for(std::chrono::seconds(10));  // the server exits first
        std::exit(0);
      },
      ::testing::ExitedWithCode(3), "");
}

// ---- TLS ----------------------------------------------------------------------------

// Writes a self-signed certificate for "localhost" and its key into dir.
void WriteSelfSignedCert(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  ASSERT_GT(X509_sign(cert, key, EVP_sha256()), 0);
  FILE* f = fopen(cert_path.c_str(), "w");
  PEM_write_X509(f, cert);
  fclose(f);
  f = fopen(key_path.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
}

class TlsTest : public ServerTest {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kubes-demo-tls-XXXXXX";
    dir_ = mkdtemp(tmpl);
    cert_ = dir_ + "/tls.crt";
    key_ = dir_ + "/tls.key";
    WriteSelfSignedCert(cert_, key_);
  }
  void TearDown() override {
    ServerTest::TearDown();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_, cert_, key_;
};

TEST_F(TlsTest, ServesHttpsWithTheGivenCertificate) {
  std::string error;
  auto tls = TlsContext::Load(cert_, key_, &error);
  ASSERT_NE(tls, nullptr) << error;
  Start(tls.get());
  ASSERT_GT(server_->tls_port(), 0);
  ASSERT_NE(server_->tls_port(), server_->port());

  int fd = Connect(server_->tls_port());
  ASSERT_GE(fd, 0);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  ASSERT_EQ(SSL_connect(ssl), 1);
  X509* peer = SSL_get1_peer_certificate(ssl);
  ASSERT_NE(peer, nullptr);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "localhost");
  X509_free(peer);
  std::string request = "GET /readyz HTTP/1.1\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(SSL_write(ssl, request.data(), static_cast<int>(request.size())), static_cast<int>(request.size()));
  std::string got;
  char buf[4096];
  int n;
  while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK\r\n")) << got;
  EXPECT_TRUE(got.ends_with("\r\n\r\nok\n")) << got;
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);

  // Plain HTTP on the TLS port is a failed handshake, not a crash; the server goes on.
  fd = Connect(server_->tls_port());
  SendAll(fd, "GET / HTTP/1.1\r\n\r\n");
  ReadToEnd(fd);
  close(fd);
  fd = Connect(server_->port());
  SendAll(fd, "GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(ReadToEnd(fd).ends_with("ok\n"));
  close(fd);
}

TEST_F(TlsTest, LoadErrorsNameTheFile) {
  std::string error;
  EXPECT_EQ(TlsContext::Load(dir_ + "/missing.crt", key_, &error), nullptr);
  EXPECT_TRUE(error.starts_with("TLS_CERT " + dir_ + "/missing.crt: ")) << error;
  EXPECT_EQ(TlsContext::Load(cert_, dir_ + "/missing.key", &error), nullptr);
  EXPECT_TRUE(error.starts_with("TLS_KEY " + dir_ + "/missing.key: ")) << error;
  // A key that is not the certificate's.
  WriteSelfSignedCert(dir_ + "/other.crt", dir_ + "/other.key");
  EXPECT_EQ(TlsContext::Load(cert_, dir_ + "/other.key", &error), nullptr);
  EXPECT_TRUE(error.starts_with("TLS_KEY " + dir_ + "/other.key")) << error;
}

}  // namespace
}  // namespace kubes::demo
