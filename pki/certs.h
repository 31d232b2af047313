// certs — the cluster's certificate authority and the certificates it issues.
//
// Upstream, `kubeadm init` (cmd/kubeadm/app/phases/certs) and k3s (pkg/daemons/control/deps)
// create a CA on the first start of the control plane and use it to sign the apiserver's
// serving certificate and the admin's client certificate. Clients trust the CA; the
// apiserver trusts any client certificate the CA signed and reads the user from it:
// user name = subject CommonName, groups = subject Organization entries (the x509
// authenticator in k8s.io/apiserver/pkg/authentication/request/x509).
//
// kubes does the same with EC P-256 keys and SHA-256 signatures. EnsureServerCertificates
// is what `kubes server` calls at start: it creates what is missing in <data-dir>/pki/
// and reuses what is still good (see pki/README.md for the files and the reuse rules).
//
// Every function takes the current time as `now` (Unix seconds) instead of reading a
// clock, so tests can issue and verify at any moment they like.
//
// Thread-safety: a CertificateAuthority is immutable after it is built; all its methods
// are const and may be called from any number of threads at once.
#pragma once

#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pki/ossl.h"
#include "util/status.h"

namespace kubes::pki {

constexpr int64_t kDaySeconds = 24 * 60 * 60;
constexpr int64_t kCaValiditySeconds = 3650 * kDaySeconds;    // the kubeadm CA's lifetime
constexpr int64_t kLeafValiditySeconds = 365 * kDaySeconds;   // kubeadm and k3s leaf lifetime
// A leaf certificate that expires sooner than this is reissued on start (k3s does the same).
constexpr int64_t kRenewBeforeSeconds = 90 * kDaySeconds;

// File names inside the pki directory; kubeadm's names where kubeadm has the file.
constexpr char kCaCertFile[] = "ca.crt";
constexpr char kCaKeyFile[] = "ca.key";
constexpr char kApiserverCertFile[] = "apiserver.crt";
constexpr char kApiserverKeyFile[] = "apiserver.key";
constexpr char kAdminCertFile[] = "admin.crt";
constexpr char kAdminKeyFile[] = "admin.key";

constexpr char kCaCommonName[] = "kubes-ca";
constexpr char kApiserverCommonName[] = "kube-apiserver";
constexpr char kAdminUser[] = "kubes-admin";
constexpr char kMastersGroup[] = "system:masters";  // bound to cluster-admin by the default RBAC

// The subject alternative names of a serving certificate. IP addresses are text,
// IPv4 ("10.0.0.1") or IPv6 ("fd00::1").
struct SubjectAltNames {
  std::vector<std::string> dns_names{};
  std::vector<std::string> ip_addresses{};

  bool operator==(const SubjectAltNames&) const = default;
};

// The names every apiserver serving certificate carries — localhost, 127.0.0.1, ::1 and
// the in-cluster names of the `kubernetes` Service — plus `extra`: the node's addresses,
// host name, the Service's cluster IP. Each extra entry that parses as an IP address
// becomes an IP SAN, anything else a DNS SAN. The result is canonical (see Canonical).
SubjectAltNames ApiserverSubjectAltNames(const std::vector<std::string>& extra);

// Sorted, de-duplicated, DNS names lower-cased, IP addresses in inet_ntop's spelling
// ("::1", not "0:0::1"). Two canonical SubjectAltNames compare equal iff they name the
// same endpoints. Unparseable IP addresses are kept as they are (issuing rejects them).
SubjectAltNames Canonical(const SubjectAltNames& names);

// Who a client certificate says its holder is — user.Info in k8s.io/apiserver.
struct UserInfo {
  std::string name;                 // subject CommonName
  std::vector<std::string> groups;  // subject Organization entries, in certificate order

  bool operator==(const UserInfo&) const = default;
};

// A certificate and its private key, both PEM (the key as PKCS#8).
struct CertAndKey {
  std::string cert_pem;
  std::string key_pem;
};

class CertificateAuthority {
 public:
  // Loads <dir>/ca.crt and <dir>/ca.key; when ca.crt does not exist, creates a new CA
  // (CN kubes-ca, valid kCaValiditySeconds from now) and writes both files.
  // Fails when ca.crt exists but ca.key does not, or they do not belong together:
  // silently replacing a CA would invalidate every certificate and kubeconfig out there.
  static Result<std::unique_ptr<CertificateAuthority>> LoadOrCreate(const std::string& dir, int64_t now);
  // A CA from PEM text held elsewhere.
  static Result<std::unique_ptr<CertificateAuthority>> FromPem(std::string_view cert_pem, std::string_view key_pem);

  const std::string& cert_pem() const { return cert_pem_; }

  // A fresh key and a certificate for it with extended key usage clientAuth:
  // kubes-admin/system:masters for the admin, system:node:<name>/system:nodes for a node.
  Result<CertAndKey> IssueClientCertificate(const UserInfo& user, int64_t now,
                                            int64_t validity_seconds = kLeafValiditySeconds) const;

  // A fresh key and a certificate for it with extended key usage serverAuth and names as
  // its SANs. Invalid when a DNS name or IP address is malformed or there are none.
  Result<CertAndKey> IssueServingCertificate(const std::string& common_name, const SubjectAltNames& names,
                                             int64_t now, int64_t validity_seconds = kLeafValiditySeconds) const;

  // Checks that leaf, helped by the optional intermediates, chains to this CA, is valid at
  // `now` and may be used for client authentication; returns who it names. This is the
  // check behind the apiserver's x509 authenticator. Unauthorized with OpenSSL's reason
  // ("certificate has expired", ...) when it fails, or when the CommonName is empty.
  Result<UserInfo> VerifyClientCertificate(X509* leaf, STACK_OF(X509)* intermediates, int64_t now) const;
  // The same for PEM text: the leaf first, then any intermediates.
  Result<UserInfo> VerifyClientCertificatePem(std::string_view chain_pem, int64_t now) const;

  // Checks that cert chains to this CA and is valid at `now` for `purpose`
  // (X509_PURPOSE_SSL_SERVER or X509_PURPOSE_SSL_CLIENT). Unauthorized with the reason.
  Status VerifyIssued(X509* cert, STACK_OF(X509)* intermediates, int purpose, int64_t now) const;

 private:
  CertificateAuthority(ossl::X509Ptr cert, ossl::PkeyPtr key, ossl::StorePtr store, std::string cert_pem)
      : cert_(std::move(cert)), key_(std::move(key)), store_(std::move(store)), cert_pem_(std::move(cert_pem)) {}
  static Result<std::unique_ptr<CertificateAuthority>> Build(ossl::X509Ptr cert, ossl::PkeyPtr key);

  ossl::X509Ptr cert_;
  ossl::PkeyPtr key_;
  ossl::StorePtr store_;  // trusts only cert_; X509_STORE is safe for concurrent verifies
  std::string cert_pem_;
};

// The subject of cert read the way the x509 authenticator reads it. Does not check the
// signature or dates: only for certificates already verified (for instance by the TLS
// handshake, which checks the chain and clientAuth when the server asks for a client cert).
// Unauthorized when the CommonName is missing or empty.
Result<UserInfo> UserInfoFromCertificate(X509* cert);

// The SANs of a certificate, canonical (none when it has no subjectAltName extension).
SubjectAltNames SubjectAltNamesOf(X509* cert);
// The same for PEM text.
Result<SubjectAltNames> ReadSubjectAltNames(std::string_view cert_pem);

// What `kubes server` holds after EnsureServerCertificates: the CA for signing and
// verifying, the paths the TLS listener loads, and the admin pair for the kubeconfig.
struct ServerCertificates {
  std::unique_ptr<CertificateAuthority> ca;
  std::string ca_cert_file;
  std::string serving_cert_file;
  std::string serving_key_file;
  std::string admin_cert_file;
  std::string admin_key_file;
  CertAndKey admin;
  bool serving_issued = false;  // true when this call (re)issued the serving certificate
  bool admin_issued = false;    // true when this call (re)issued the admin certificate
};

// Makes <dir> hold a CA, a serving certificate for `names` and an admin client certificate,
// creating or reissuing what is missing, broken, expiring within kRenewBeforeSeconds,
// not signed by the CA, or (for the serving certificate) issued for other SANs.
Result<ServerCertificates> EnsureServerCertificates(const std::string& dir, const SubjectAltNames& names,
                                                    int64_t now);

}  // namespace kubes::pki
