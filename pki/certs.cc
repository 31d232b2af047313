#include "pki/certs.h"

#include <arpa/inet.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <filesystem>
#include <functional>
#include <optional>

#include "pki/files.h"

namespace kubes::pki {
namespace {

// Certificates start a little in the past so a peer whose clock runs slightly behind
// ours does not reject a certificate issued a moment ago.
constexpr int64_t kBackdateSeconds = 5 * 60;

using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, ossl::Deleter<GENERAL_NAMES_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, ossl::Deleter<X509_EXTENSION_free>>;
void FreeX509Stack(STACK_OF(X509)* s) { sk_X509_pop_free(s, X509_free); }
using X509StackPtr = std::unique_ptr<STACK_OF(X509), ossl::Deleter<FreeX509Stack>>;

// What a certificate says about its subject and what it may be used for.
struct CertSpec {
  std::string common_name{};
  std::vector<std::string> organizations{};
  bool is_ca = false;
  const char* ext_key_usage = nullptr;  // "serverAuth", "clientAuth" or none
  SubjectAltNames sans{};
  int64_t not_before = 0;
  int64_t not_after = 0;
};

// The text form of a 4- or 16-byte address; "" for any other length.
std::string IpToText(const unsigned char* bytes, int len) {
  char buf[INET6_ADDRSTRLEN] = {};
  int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
  if (family == 0 || inet_ntop(family, bytes, buf, sizeof(buf)) == nullptr) return "";
  return buf;
}

// inet_ntop's spelling of text, or nullopt when it is not an IP address.
std::optional<std::string> CanonicalIp(const std::string& text) {
  unsigned char bytes[16];
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) return IpToText(bytes, 4);
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) return IpToText(bytes, 16);
  return std::nullopt;
}

// RFC 1123 host names, optionally with a leading "*." wildcard label.
bool ValidDnsName(std::string_view name) {
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (name.empty() || name.size() > 253) return false;
  size_t label = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (label == 0 || label > 63 || name[i - 1] == '-' || name[i - label] == '-') return false;
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(name[i])) || name[i] == '-') {
      ++label;
    } else {
      return false;
    }
  }
  return true;
}

void SortUnique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return ossl::Failure(std::string("add extension ") + OBJ_nid2sn(nid) + "=" + value);
  }
  return Status::OK();
}

// Built with GENERAL_NAME objects rather than OpenSSL's "DNS:a,IP:b" config text, so a
// name can never smuggle in a second entry.
Status AddSubjectAltNames(X509* cert, const SubjectAltNames& sans) {
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return ossl::Failure("allocate subjectAltName");
  for (const std::string& dns : sans.dns_names) {
    if (!ValidDnsName(dns)) return Invalid("subjectAltName: invalid DNS name \"" + dns + "\"");
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* value = ASN1_IA5STRING_new();
    if (!gn || !value || ASN1_STRING_set(value, dns.data(), static_cast<int>(dns.size())) != 1) {
      GENERAL_NAME_free(gn);
      ASN1_IA5STRING_free(value);
      return ossl::Failure("encode DNS name " + dns);
    }
    GENERAL_NAME_set0_value(gn, GEN_DNS, value);
    sk_GENERAL_NAME_push(names.get(), gn);
  }
  for (const std::string& ip : sans.ip_addresses) {
    ASN1_OCTET_STRING* value = a2i_IPADDRESS(ip.c_str());
    if (!value) {
      ossl::ErrorText();  // drop OpenSSL's complaint; ours says more
      return Invalid("subjectAltName: invalid IP address \"" + ip + "\"");
    }
    GENERAL_NAME* gn = GENERAL_NAME_new();
    if (!gn) {
      ASN1_OCTET_STRING_free(value);
      return ossl::Failure("allocate subjectAltName");
    }
    GENERAL_NAME_set0_value(gn, GEN_IPADD, value);
    sk_GENERAL_NAME_push(names.get(), gn);
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return ossl::Failure("add subjectAltName");
  }
  return Status::OK();
}

Status SetSubject(X509* cert, const CertSpec& spec) {
  X509_NAME* name = X509_get_subject_name(cert);
  auto add = [name](const char* field, const std::string& value) {
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.data()),
                                      static_cast<int>(value.size()), -1, 0) == 1;
  };
  for (const std::string& org : spec.organizations) {
    if (!add("O", org)) return ossl::Failure("subject O=" + org);
  }
  if (!add("CN", spec.common_name)) return ossl::Failure("subject CN=" + spec.common_name);
  return Status::OK();
}

// 127 random bits: positive, unique in practice, within RFC 5280's 20 octets.
Status SetRandomSerial(X509* cert) {
  ossl::BignumPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert))) {
    return ossl::Failure("serial number");
  }
  return Status::OK();
}

Status AddExtensions(X509* cert, X509* issuer, const CertSpec& spec) {
  if (spec.is_ca) {
    KUBES_RETURN_IF_ERROR(AddExtension(cert, issuer, NID_basic_constraints, "critical,CA:TRUE"));
    KUBES_RETURN_IF_ERROR(AddExtension(cert, issuer, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign"));
    return AddExtension(cert, issuer, NID_subject_key_identifier, "hash");
  }
  KUBES_RETURN_IF_ERROR(AddExtension(cert, issuer, NID_basic_constraints, "critical,CA:FALSE"));
  KUBES_RETURN_IF_ERROR(AddExtension(cert, issuer, NID_key_usage, "critical,digitalSignature"));
  if (spec.ext_key_usage) KUBES_RETURN_IF_ERROR(AddExtension(cert, issuer, NID_ext_key_usage, spec.ext_key_usage));
  KUBES_RETURN_IF_ERROR(AddExtension(cert, issuer, NID_subject_key_identifier, "hash"));
  KUBES_RETURN_IF_ERROR(AddExtension(cert, issuer, NID_authority_key_identifier, "keyid:always"));
  if (!spec.sans.dns_names.empty() || !spec.sans.ip_addresses.empty()) {
    KUBES_RETURN_IF_ERROR(AddSubjectAltNames(cert, spec.sans));
  }
  return Status::OK();
}

// A certificate for subject_key described by spec, signed by issuer_key. issuer is the
// issuer's certificate, or nullptr for a self-signed one.
Result<ossl::X509Ptr> BuildCertificate(const CertSpec& spec, EVP_PKEY* subject_key, X509* issuer,
                                       EVP_PKEY* issuer_key) {
  ossl::X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return ossl::Failure("allocate certificate");
  KUBES_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  KUBES_RETURN_IF_ERROR(SetSubject(cert.get(), spec));
  X509* signer = issuer ? issuer : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) != 1 ||
      !ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(spec.not_before)) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(spec.not_after)) ||
      X509_set_pubkey(cert.get(), subject_key) != 1) {
    return ossl::Failure("fill certificate");
  }
  KUBES_RETURN_IF_ERROR(AddExtensions(cert.get(), signer, spec));
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0) return ossl::Failure("sign certificate");
  return cert;
}

// Issues a certificate for a fresh P-256 key and returns both as PEM.
Result<CertAndKey> IssueWithNewKey(const CertSpec& spec, X509* issuer, EVP_PKEY* issuer_key) {
  Result<ossl::PkeyPtr> key = ossl::GenerateEcP256Key();
  if (!key.ok()) return key.status();
  Result<ossl::X509Ptr> cert = BuildCertificate(spec, key->get(), issuer, issuer_key);
  if (!cert.ok()) return cert.status();
  Result<std::string> cert_pem = ossl::CertToPem(cert->get());
  if (!cert_pem.ok()) return cert_pem.status();
  Result<std::string> key_pem = ossl::PrivateKeyToPem(key->get());
  if (!key_pem.ok()) return key_pem.status();
  return CertAndKey{std::move(*cert_pem), std::move(*key_pem)};
}

Result<std::string> EntryText(X509_NAME_ENTRY* entry) {
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
  if (n < 0) return Status(Code::kUnauthorized, "certificate subject: undecodable string: " + ossl::ErrorText());
  std::string text(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return text;
}

// Every certificate in pem, in order; an error when there is none.
Result<X509StackPtr> CertsFromPem(std::string_view pem) {
  if (pem.size() > static_cast<size_t>(INT_MAX)) return BadRequest("certificate chain too large");
  ossl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509StackPtr certs(sk_X509_new_null());
  if (!bio || !certs) return ossl::Failure("allocate");
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) sk_X509_push(certs.get(), cert);
  ossl::ErrorText();  // the read that ended the loop leaves "no start line" behind
  if (sk_X509_num(certs.get()) == 0) return Status(Code::kUnauthorized, "no PEM certificate found");
  return certs;
}

}  // namespace

SubjectAltNames Canonical(const SubjectAltNames& names) {
  SubjectAltNames out;
  for (const std::string& dns : names.dns_names) {
    std::string lower = dns;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.dns_names.push_back(std::move(lower));
  }
  for (const std::string& ip : names.ip_addresses) out.ip_addresses.push_back(CanonicalIp(ip).value_or(ip));
  SortUnique(out.dns_names);
  SortUnique(out.ip_addresses);
  return out;
}

SubjectAltNames ApiserverSubjectAltNames(const std::vector<std::string>& extra) {
  SubjectAltNames names{
      .dns_names = {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                    "kubernetes.default.svc.cluster.local"},
      .ip_addresses = {"127.0.0.1", "::1"},
  };
  for (const std::string& e : extra) {
    if (e.empty()) continue;
    (CanonicalIp(e) ? names.ip_addresses : names.dns_names).push_back(e);
  }
  return Canonical(names);
}

Result<UserInfo> UserInfoFromCertificate(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  UserInfo user;
  for (int i = 0; subject && i < X509_NAME_entry_count(subject); ++i) {
    X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    if (nid != NID_commonName && nid != NID_organizationName) continue;
    Result<std::string> text = EntryText(entry);
    if (!text.ok()) return text.status();
    // Like Go's pkix.Name, a repeated CN keeps the last one.
    if (nid == NID_commonName) user.name = std::move(*text);
    else user.groups.push_back(std::move(*text));
  }
  if (user.name.empty()) return Status(Code::kUnauthorized, "client certificate has no subject common name");
  return user;
}

SubjectAltNames SubjectAltNamesOf(X509* cert) {
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  SubjectAltNames out;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type == GEN_DNS) {
      const ASN1_IA5STRING* s = gn->d.dNSName;
      out.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
    } else if (gn->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = gn->d.iPAddress;
      out.ip_addresses.push_back(IpToText(ASN1_STRING_get0_data(s), ASN1_STRING_length(s)));
    }
  }
  return Canonical(out);
}

Result<SubjectAltNames> ReadSubjectAltNames(std::string_view cert_pem) {
  Result<ossl::X509Ptr> cert = ossl::CertFromPem(cert_pem);
  if (!cert.ok()) return cert.status();
  return SubjectAltNamesOf(cert->get());
}

// ---- CertificateAuthority ----

Result<std::unique_ptr<CertificateAuthority>> CertificateAuthority::Build(ossl::X509Ptr cert, ossl::PkeyPtr key) {
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return ossl::Failure("CA certificate and CA key do not belong together");
  }
  if (X509_check_ca(cert.get()) == 0) return Invalid("CA certificate is not a CA (basicConstraints CA:FALSE)");
  ossl::StorePtr store(X509_STORE_new());
  if (!store || X509_STORE_add_cert(store.get(), cert.get()) != 1) return ossl::Failure("build CA trust store");
  Result<std::string> pem = ossl::CertToPem(cert.get());
  if (!pem.ok()) return pem.status();
  return std::unique_ptr<CertificateAuthority>(
      new CertificateAuthority(std::move(cert), std::move(key), std::move(store), std::move(*pem)));
}

Result<std::unique_ptr<CertificateAuthority>> CertificateAuthority::FromPem(std::string_view cert_pem,
                                                                            std::string_view key_pem) {
  Result<ossl::X509Ptr> cert = ossl::CertFromPem(cert_pem);
  if (!cert.ok()) return cert.status();
  Result<ossl::PkeyPtr> key = ossl::PrivateKeyFromPem(key_pem);
  if (!key.ok()) return key.status();
  return Build(std::move(*cert), std::move(*key));
}

Result<std::unique_ptr<CertificateAuthority>> CertificateAuthority::LoadOrCreate(const std::string& dir, int64_t now) {
  const std::string cert_path = dir + "/" + kCaCertFile;
  const std::string key_path = dir + "/" + kCaKeyFile;
  Result<std::string> cert_pem = ReadFile(cert_path);
  if (cert_pem.ok()) {
    Result<std::string> key_pem = ReadFile(key_path);
    if (!key_pem.ok()) {
      return std::move(key_pem.status()).Wrap("CA " + cert_path + " exists but its key cannot be read");
    }
    auto ca = FromPem(*cert_pem, *key_pem);
    if (!ca.ok()) return std::move(ca.status()).Wrap("load CA from " + dir);
    return ca;
  }
  if (cert_pem.status().code() != Code::kNotFound) return cert_pem.status();

  // First start. The key is written before the certificate: ca.crt appearing is what
  // marks the CA as created, so a crash in between just means "create again".
  KUBES_RETURN_IF_ERROR(EnsureDirectory(dir));
  Result<ossl::PkeyPtr> key = ossl::GenerateEcP256Key();
  if (!key.ok()) return key.status();
  CertSpec spec{.common_name = kCaCommonName,
                .is_ca = true,
                .not_before = now - kBackdateSeconds,
                .not_after = now + kCaValiditySeconds};
  Result<ossl::X509Ptr> cert = BuildCertificate(spec, key->get(), nullptr, key->get());
  if (!cert.ok()) return std::move(cert.status()).Wrap("create CA");
  Result<std::string> key_text = ossl::PrivateKeyToPem(key->get());
  Result<std::string> cert_text = ossl::CertToPem(cert->get());
  if (!key_text.ok()) return key_text.status();
  if (!cert_text.ok()) return cert_text.status();
  KUBES_RETURN_IF_ERROR(WriteFileAtomic(key_path, *key_text, 0600));
  KUBES_RETURN_IF_ERROR(WriteFileAtomic(cert_path, *cert_text, 0644));
  return Build(std::move(*cert), std::move(*key));
}

Result<CertAndKey> CertificateAuthority::IssueClientCertificate(const UserInfo& user, int64_t now,
                                                                int64_t validity_seconds) const {
  if (user.name.empty()) return Invalid("client certificate: user name (CN) must not be empty");
  CertSpec spec{.common_name = user.name,
                .organizations = user.groups,
                .ext_key_usage = "clientAuth",
                .not_before = now - kBackdateSeconds,
                .not_after = now + validity_seconds};
  Result<CertAndKey> issued = IssueWithNewKey(spec, cert_.get(), key_.get());
  if (!issued.ok()) return std::move(issued.status()).Wrap("client certificate for " + user.name);
  return issued;
}

Result<CertAndKey> CertificateAuthority::IssueServingCertificate(const std::string& common_name,
                                                                 const SubjectAltNames& names, int64_t now,
                                                                 int64_t validity_seconds) const {
  if (names.dns_names.empty() && names.ip_addresses.empty()) {
    return Invalid("serving certificate " + common_name + ": no DNS names or IP addresses");
  }
  CertSpec spec{.common_name = common_name,
                .ext_key_usage = "serverAuth",
                .sans = names,
                .not_before = now - kBackdateSeconds,
                .not_after = now + validity_seconds};
  Result<CertAndKey> issued = IssueWithNewKey(spec, cert_.get(), key_.get());
  if (!issued.ok()) return std::move(issued.status()).Wrap("serving certificate " + common_name);
  return issued;
}

Status CertificateAuthority::VerifyIssued(X509* cert, STACK_OF(X509)* intermediates, int purpose,
                                          int64_t now) const {
  ossl::StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store_.get(), cert, intermediates) != 1) {
    return ossl::Failure("verify certificate: set up");
  }
  X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), static_cast<time_t>(now));
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ossl::ErrorText();  // the reason is in err; leave the queue empty for the next caller
    return Status(Code::kUnauthorized, std::string("verify certificate: ") + X509_verify_cert_error_string(err));
  }
  return Status::OK();
}

Result<UserInfo> CertificateAuthority::VerifyClientCertificate(X509* leaf, STACK_OF(X509)* intermediates,
                                                               int64_t now) const {
  KUBES_RETURN_IF_ERROR(VerifyIssued(leaf, intermediates, X509_PURPOSE_SSL_CLIENT, now));
  return UserInfoFromCertificate(leaf);
}

Result<UserInfo> CertificateAuthority::VerifyClientCertificatePem(std::string_view chain_pem, int64_t now) const {
  Result<X509StackPtr> certs = CertsFromPem(chain_pem);
  if (!certs.ok()) return certs.status();
  ossl::X509Ptr leaf(sk_X509_shift(certs->get()));
  return VerifyClientCertificate(leaf.get(), certs->get(), now);
}

// ---- EnsureServerCertificates ----

namespace {

// One leaf certificate kept on disk: where it lives, what checks it must pass to be
// reused, and how to issue a replacement.
struct LeafFiles {
  std::string cert_path;
  std::string key_path;
  int purpose;
  std::function<bool(X509*)> wanted;  // does the existing certificate still say the right things?
  std::function<Result<CertAndKey>()> issue;
};

// The pair on disk when it is present, matching, signed by ca, good for kRenewBeforeSeconds
// more and still wanted; nullopt when it must be (re)issued.
std::optional<CertAndKey> LoadReusable(const CertificateAuthority& ca, const LeafFiles& leaf, int64_t now) {
  Result<std::string> cert_pem = ReadFile(leaf.cert_path);
  Result<std::string> key_pem = ReadFile(leaf.key_path);
  if (!cert_pem.ok() || !key_pem.ok()) return std::nullopt;
  Result<ossl::X509Ptr> cert = ossl::CertFromPem(*cert_pem);
  Result<ossl::PkeyPtr> key = ossl::PrivateKeyFromPem(*key_pem);
  bool good = cert.ok() && key.ok() && X509_check_private_key(cert->get(), key->get()) == 1 &&
              ca.VerifyIssued(cert->get(), nullptr, leaf.purpose, now + kRenewBeforeSeconds).ok() &&
              leaf.wanted(cert->get());
  ossl::ErrorText();  // failed checks above are expected; do not leak them into later messages
  if (!good) return std::nullopt;
  return CertAndKey{std::move(*cert_pem), std::move(*key_pem)};
}

// Reuses or (re)issues the leaf; *issued tells which happened.
Result<CertAndKey> EnsureLeaf(const CertificateAuthority& ca, const LeafFiles& leaf, int64_t now, bool* issued) {
  if (std::optional<CertAndKey> existing = LoadReusable(ca, leaf, now)) {
    *issued = false;
    return std::move(*existing);
  }
  Result<CertAndKey> fresh = leaf.issue();
  if (!fresh.ok()) return fresh.status();
  // Key first: a crash between the two writes leaves a pair that does not match, which
  // the next start reissues.
  KUBES_RETURN_IF_ERROR(WriteFileAtomic(leaf.key_path, fresh->key_pem, 0600));
  KUBES_RETURN_IF_ERROR(WriteFileAtomic(leaf.cert_path, fresh->cert_pem, 0644));
  *issued = true;
  return fresh;
}

}  // namespace

Result<ServerCertificates> EnsureServerCertificates(const std::string& dir, const SubjectAltNames& names,
                                                    int64_t now) {
  ServerCertificates out;
  auto ca = CertificateAuthority::LoadOrCreate(dir, now);
  if (!ca.ok()) return ca.status();
  out.ca = std::move(*ca);
  out.ca_cert_file = dir + "/" + kCaCertFile;
  out.serving_cert_file = dir + "/" + kApiserverCertFile;
  out.serving_key_file = dir + "/" + kApiserverKeyFile;
  out.admin_cert_file = dir + "/" + kAdminCertFile;
  out.admin_key_file = dir + "/" + kAdminKeyFile;
  const CertificateAuthority& authority = *out.ca;

  const SubjectAltNames wanted_sans = Canonical(names);
  LeafFiles serving{
      .cert_path = out.serving_cert_file,
      .key_path = out.serving_key_file,
      .purpose = X509_PURPOSE_SSL_SERVER,
      .wanted = [&](X509* cert) { return SubjectAltNamesOf(cert) == wanted_sans; },
      .issue = [&] { return authority.IssueServingCertificate(kApiserverCommonName, wanted_sans, now); },
  };
  Result<CertAndKey> serving_pair = EnsureLeaf(authority, serving, now, &out.serving_issued);
  if (!serving_pair.ok()) return serving_pair.status();

  const UserInfo admin_user{.name = kAdminUser, .groups = {kMastersGroup}};
  LeafFiles admin{
      .cert_path = out.admin_cert_file,
      .key_path = out.admin_key_file,
      .purpose = X509_PURPOSE_SSL_CLIENT,
      .wanted =
          [&](X509* cert) {
            Result<UserInfo> user = UserInfoFromCertificate(cert);
            return user.ok() && *user == admin_user;
          },
      .issue = [&] { return authority.IssueClientCertificate(admin_user, now); },
  };
  Result<CertAndKey> admin_pair = EnsureLeaf(authority, admin, now, &out.admin_issued);
  if (!admin_pair.ok()) return admin_pair.status();
  out.admin = std::move(*admin_pair);
  return out;
}

}  // namespace kubes::pki
