// Test helpers for client/http and its users (HttpTransport, the kubelet proxy): a
// throw-away CA in a temporary directory, certificates from it, and TLS listeners
// (apiserver::Server) on loopback addresses. Only tests include this.
#pragma once

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "apiserver/server.h"
#include "pki/certs.h"
#include "pki/files.h"

namespace kubes::client::http::testing {

class TestPki {
 public:
  TestPki() {
    char tmpl[] = "/tmp/kubes-http-test-XXXXXX";
    const char* made = mkdtemp(tmpl);
    dir_ = made ? made : "/tmp/kubes-http-test-failed";
    ca_ = std::move(pki::CertificateAuthority::LoadOrCreate(dir_ + "/ca", Now()).value());
  }
  ~TestPki() { std::filesystem::remove_all(dir_); }
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  static int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }
  const std::string& dir() const { return dir_; }
  std::string ca_file() const { return dir_ + "/ca/" + pki::kCaCertFile; }
  const std::string& ca_pem() const { return ca_->cert_pem(); }

  // A serving certificate for sans, written to files; returns {cert file, key file}.
  std::pair<std::string, std::string> Serving(const std::string& name, const pki::SubjectAltNames& sans) {
    pki::CertAndKey ck = ca_->IssueServingCertificate(name, sans, Now()).value();
    std::string cert = dir_ + "/" + name + ".crt", key = dir_ + "/" + name + ".key";
    (void)pki::WriteFileAtomic(cert, ck.cert_pem, 0600);
    (void)pki::WriteFileAtomic(key, ck.key_pem, 0600);
    return {cert, key};
  }
  // A client certificate for user and groups.
  pki::CertAndKey Client(const std::string& user, const std::vector<std::string>& groups) {
    return ca_->IssueClientCertificate({user, groups}, Now()).value();
  }

 private:
  std::string dir_;
  std::unique_ptr<pki::CertificateAuthority> ca_;
};

// A TLS listener on address:port (0 = any free one) serving a certificate for sans; null when it cannot
// listen (no IPv6 loopback, say).
inline std::unique_ptr<apiserver::Server> StartServer(TestPki& pki, const std::string& address,
                                                      const pki::SubjectAltNames& sans, apiserver::Server::Handler h,
                                                      const std::string& client_ca_file = "", int port = 0) {
  static int serial = 0;
  auto [cert, key] = pki.Serving("server" + std::to_string(++serial), sans);
  apiserver::ServerOptions o;
  o.address = address;
  o.port = port;
  o.cert_file = cert;
  o.key_file = key;
  o.client_ca_file = client_ca_file;
  auto server = std::make_unique<apiserver::Server>(o, std::move(h));
  if (!server->Start().ok()) return nullptr;
  return server;
}

// A loopback port nothing listens on (bound, then released).
inline int UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace kubes::client::http::testing
