#include "pki/certs.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "pki/files.h"

namespace kubes::pki {
namespace {

constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

class CertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kubes-pki-XXXXXX";
    dir_ = mkdtemp(tmpl);
    pki_ = dir_ + "/pki";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ServerCertificates Ensure(const SubjectAltNames& names, int64_t now = kNow) {
    Result<ServerCertificates> certs = EnsureServerCertificates(pki_, names, now);
    EXPECT_TRUE(certs.ok()) << certs.status().ToString();
    return certs.ok() ? std::move(*certs) : ServerCertificates{};
  }
  std::string Read(const char* name) {
    Result<std::string> text = ReadFile(pki_ + "/" + name);
    EXPECT_TRUE(text.ok()) << name;
    return text.ok() ? *text : "";
  }
  void Write(const char* name, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomic(pki_ + "/" + name, text, 0600).ok());
  }
  mode_t Mode(const char* name) {
    struct stat st {};
    EXPECT_EQ(stat((pki_ + "/" + name).c_str(), &st), 0) << name;
    return st.st_mode & 0777;
  }

  std::string dir_, pki_;
};

ossl::X509Ptr ParseCert(const std::string& pem) {
  Result<ossl::X509Ptr> cert = ossl::CertFromPem(pem);
  EXPECT_TRUE(cert.ok()) << cert.status().ToString();
  return cert.ok() ? std::move(*cert) : nullptr;
}

// Verifies cert against ca_pem with OpenSSL directly, not through CertificateAuthority.
int VerifyWithOpenssl(const std::string& ca_pem, X509* cert, int purpose, int64_t now) {
  ossl::X509Ptr ca = ParseCert(ca_pem);
  ossl::StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  ossl::StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), now);
  int ok = X509_verify_cert(ctx.get());
  return ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx.get());
}

TEST_F(CertsTest, FirstStartWritesAllFilesWithPrivateKeyModes) {
  ServerCertificates certs = Ensure(ApiserverSubjectAltNames({"10.0.0.5", "node-1"}));
  EXPECT_TRUE(certs.serving_issued);
  EXPECT_TRUE(certs.admin_issued);
  EXPECT_EQ(certs.serving_cert_file, pki_ + "/apiserver.crt");
  for (const char* key : {kCaKeyFile, kApiserverKeyFile, kAdminKeyFile}) EXPECT_EQ(Mode(key), 0600u) << key;
  for (const char* cert : {kCaCertFile, kApiserverCertFile, kAdminCertFile}) EXPECT_EQ(Mode(cert), 0644u) << cert;
  EXPECT_EQ(certs.admin.cert_pem, Read(kAdminCertFile));
  EXPECT_EQ(certs.admin.key_pem, Read(kAdminKeyFile));
  EXPECT_EQ(certs.ca->cert_pem(), Read(kCaCertFile));
  EXPECT_NE(Read(kCaKeyFile).find("BEGIN PRIVATE KEY"), std::string::npos);
}

TEST_F(CertsTest, CaIsSelfSignedKubesCaForTenYears) {
  ServerCertificates certs = Ensure(ApiserverSubjectAltNames({}));
  ossl::X509Ptr ca = ParseCert(Read(kCaCertFile));
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_check_issued(ca.get(), ca.get()), X509_V_OK);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(ca.get()), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "kubes-ca");
  int days = 0, seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(ca.get()), X509_get0_notAfter(ca.get())), 1);
  EXPECT_GE(days, 3650);
  EXPECT_LE(days, 3651);
}

TEST_F(CertsTest, ServingCertHasRequestedSansServerAuthAndChainsToCa) {
  ServerCertificates certs = Ensure(ApiserverSubjectAltNames({"10.0.0.5", "fd00::0:7", "Node-1", "10.96.0.1"}));
  ossl::X509Ptr serving = ParseCert(Read(kApiserverCertFile));
  SubjectAltNames want{
      .dns_names = {"kubernetes", "kubernetes.default", "kubernetes.default.svc",
                    "kubernetes.default.svc.cluster.local", "localhost", "node-1"},
      .ip_addresses = {"10.0.0.5", "10.96.0.1", "127.0.0.1", "::1", "fd00::7"},
  };
  EXPECT_EQ(SubjectAltNamesOf(serving.get()), want);
  for (const char* host : {"localhost", "kubernetes.default.svc.cluster.local", "node-1"}) {
    EXPECT_EQ(X509_check_host(serving.get(), host, 0, 0, nullptr), 1) << host;
  }
  EXPECT_EQ(X509_check_host(serving.get(), "example.com", 0, 0, nullptr), 0);
  for (const char* ip : {"127.0.0.1", "::1", "10.0.0.5", "fd00::7"}) {
    EXPECT_EQ(X509_check_ip_asc(serving.get(), ip, 0), 1) << ip;
  }
  EXPECT_TRUE(X509_get_extended_key_usage(serving.get()) & XKU_SSL_SERVER);
  EXPECT_FALSE(X509_get_extended_key_usage(serving.get()) & XKU_SSL_CLIENT);
  EXPECT_EQ(VerifyWithOpenssl(Read(kCaCertFile), serving.get(), X509_PURPOSE_SSL_SERVER, kNow), X509_V_OK);
  // A serving certificate does not authenticate a client.
  EXPECT_EQ(certs.ca->VerifyClientCertificate(serving.get(), nullptr, kNow).status().code(), Code::kUnauthorized);
}

TEST_F(CertsTest, RestartReusesEverythingWhenNothingChanged) {
  Ensure(ApiserverSubjectAltNames({"10.0.0.5"}));
  std::string ca = Read(kCaCertFile), serving = Read(kApiserverCertFile), admin = Read(kAdminCertFile);
  // Same names in another order and spelling.
  SubjectAltNames again = ApiserverSubjectAltNames({"10.0.0.5"});
  std::reverse(again.dns_names.begin(), again.dns_names.end());
  again.ip_addresses.push_back("0:0::1");
  ServerCertificates second = Ensure(again, kNow + 30 * kDaySeconds);
  EXPECT_FALSE(second.serving_issued);
  EXPECT_FALSE(second.admin_issued);
  EXPECT_EQ(Read(kCaCertFile), ca);
  EXPECT_EQ(Read(kApiserverCertFile), serving);
  EXPECT_EQ(Read(kAdminCertFile), admin);
}

TEST_F(CertsTest, ChangedSansReissueOnlyTheServingCert) {
  Ensure(ApiserverSubjectAltNames({"10.0.0.5"}));
  std::string ca = Read(kCaCertFile), admin = Read(kAdminCertFile);
  ServerCertificates second = Ensure(ApiserverSubjectAltNames({"10.0.0.6"}));
  EXPECT_TRUE(second.serving_issued);
  EXPECT_FALSE(second.admin_issued);
  EXPECT_EQ(Read(kCaCertFile), ca);
  EXPECT_EQ(Read(kAdminCertFile), admin);
  Result<SubjectAltNames> sans = ReadSubjectAltNames(Read(kApiserverCertFile));
  ASSERT_TRUE(sans.ok());
  EXPECT_EQ(sans->ip_addresses, (std::vector<std::string>{"10.0.0.6", "127.0.0.1", "::1"}));
}

TEST_F(CertsTest, LeavesAreRenewedWhenCloseToExpiry) {
  struct Case {
    int64_t later;
    bool reissued;
  };
  const Case cases[] = {
      {100 * kDaySeconds, false},  // 265 days left
      {270 * kDaySeconds, false},  // 95 days left
      {280 * kDaySeconds, true},   // 85 days left
      {400 * kDaySeconds, true},   // expired
  };
  for (const Case& c : cases) {
    std::filesystem::remove_all(pki_);
    Ensure(ApiserverSubjectAltNames({}));
    ServerCertificates later = Ensure(ApiserverSubjectAltNames({}), kNow + c.later);
    EXPECT_EQ(later.serving_issued, c.reissued) << c.later / kDaySeconds;
    EXPECT_EQ(later.admin_issued, c.reissued) << c.later / kDaySeconds;
  }
}

TEST_F(CertsTest, BrokenOrForeignLeavesAreReissued) {
  Result<std::unique_ptr<CertificateAuthority>> other = CertificateAuthority::LoadOrCreate(dir_ + "/other", kNow);
  ASSERT_TRUE(other.ok());
  Result<CertAndKey> foreign =
      (*other)->IssueServingCertificate("kube-apiserver", ApiserverSubjectAltNames({}), kNow);
  ASSERT_TRUE(foreign.ok());
  Result<CertAndKey> foreign_admin = (*other)->IssueClientCertificate({kAdminUser, {kMastersGroup}}, kNow);
  ASSERT_TRUE(foreign_admin.ok());

  struct Case {
    const char* name;
    std::function<void()> damage;
  };
  const Case cases[] = {
      {"truncated cert", [&] { Write(kApiserverCertFile, "-----BEGIN CERTIFICATE-----\nMII"); }},
      {"missing key", [&] { std::filesystem::remove(pki_ + "/" + kApiserverKeyFile); }},
      {"key of another cert", [&] { Write(kApiserverKeyFile, foreign->key_pem); }},
      {"signed by another CA",
       [&] {
         Write(kApiserverCertFile, foreign->cert_pem);
         Write(kApiserverKeyFile, foreign->key_pem);
       }},
      {"admin cert is a serving cert", [&] {
         Write(kAdminCertFile, Read(kApiserverCertFile));
         Write(kAdminKeyFile, Read(kApiserverKeyFile));
       }},
  };
  for (const Case& c : cases) {
    std::filesystem::remove_all(pki_);
    Ensure(ApiserverSubjectAltNames({}));
    c.damage();
    ServerCertificates again = Ensure(ApiserverSubjectAltNames({}));
    EXPECT_TRUE(again.serving_issued || again.admin_issued) << c.name;
    ossl::X509Ptr serving = ParseCert(Read(kApiserverCertFile));
    EXPECT_TRUE(again.ca->VerifyIssued(serving.get(), nullptr, X509_PURPOSE_SSL_SERVER, kNow).ok()) << c.name;
    EXPECT_TRUE(again.ca->VerifyClientCertificatePem(Read(kAdminCertFile), kNow).ok()) << c.name;
  }
}

TEST_F(CertsTest, CaWithoutItsKeyIsAnErrorNotANewCa) {
  Ensure(ApiserverSubjectAltNames({}));
  std::string ca = Read(kCaCertFile);
  std::filesystem::remove(pki_ + "/" + kCaKeyFile);
  Result<ServerCertificates> again = EnsureServerCertificates(pki_, ApiserverSubjectAltNames({}), kNow);
  EXPECT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("ca.key"), std::string::npos) << again.status().message();
  EXPECT_EQ(Read(kCaCertFile), ca);

  Write(kCaKeyFile, Read(kAdminKeyFile));  // a key, but not the CA's
  EXPECT_FALSE(EnsureServerCertificates(pki_, ApiserverSubjectAltNames({}), kNow).ok());
}

TEST_F(CertsTest, ClientCertificatesCarryUserAndGroups) {
  Result<std::unique_ptr<CertificateAuthority>> ca = CertificateAuthority::LoadOrCreate(pki_, kNow);
  ASSERT_TRUE(ca.ok());
  const UserInfo users[] = {
      {"kubes-admin", {"system:masters"}},
      {"system:node:node-1", {"system:nodes"}},
      {"jane", {"dev", "ops", "on-call"}},
      {"robot", {}},
      {"名前", {"grüppe"}},
  };
  for (const UserInfo& user : users) {
    Result<CertAndKey> issued = (*ca)->IssueClientCertificate(user, kNow);
    ASSERT_TRUE(issued.ok()) << issued.status().ToString();
    Result<UserInfo> got = (*ca)->VerifyClientCertificatePem(issued->cert_pem, kNow + kDaySeconds);
    ASSERT_TRUE(got.ok()) << user.name << ": " << got.status().ToString();
    EXPECT_EQ(*got, user);
    ossl::X509Ptr cert = ParseCert(issued->cert_pem);
    EXPECT_TRUE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_CLIENT);
    EXPECT_EQ(VerifyWithOpenssl((*ca)->cert_pem(), cert.get(), X509_PURPOSE_SSL_CLIENT, kNow), X509_V_OK);
  }
  EXPECT_EQ((*ca)->IssueClientCertificate({"", {"g"}}, kNow).status().code(), Code::kInvalid);
}

TEST_F(CertsTest, ClientVerificationRejects) {
  Result<std::unique_ptr<CertificateAuthority>> ca = CertificateAuthority::LoadOrCreate(pki_, kNow);
  Result<std::unique_ptr<CertificateAuthority>> other = CertificateAuthority::LoadOrCreate(dir_ + "/other", kNow);
  ASSERT_TRUE(ca.ok() && other.ok());
  Result<CertAndKey> good = (*ca)->IssueClientCertificate({"jane", {}}, kNow);
  Result<CertAndKey> foreign = (*other)->IssueClientCertificate({"jane", {}}, kNow);
  Result<CertAndKey> serving = (*ca)->IssueServingCertificate("x", {.dns_names = {"x"}}, kNow);
  ASSERT_TRUE(good.ok() && foreign.ok() && serving.ok());

  struct Case {
    const char* name;
    std::string pem;
    int64_t now;
    const char* reason;
  };
  const Case cases[] = {
      {"another CA", foreign->cert_pem, kNow, "unable to get local issuer certificate"},
      {"expired", good->cert_pem, kNow + 400 * kDaySeconds, "certificate has expired"},
      {"not yet valid", good->cert_pem, kNow - kDaySeconds, "certificate is not yet valid"},
      {"serving cert", serving->cert_pem, kNow, "unsuitable certificate purpose"},
      {"not PEM", "hello", kNow, "no PEM certificate"},
      {"empty", "", kNow, "no PEM certificate"},
  };
  for (const Case& c : cases) {
    Result<UserInfo> got = (*ca)->VerifyClientCertificatePem(c.pem, c.now);
    ASSERT_FALSE(got.ok()) << c.name;
    EXPECT_EQ(got.status().code(), Code::kUnauthorized) << c.name;
    EXPECT_NE(got.status().message().find(c.reason), std::string::npos) << c.name << ": " << got.status().message();
  }
}

TEST_F(CertsTest, ServingCertificateRejectsBadNames) {
  Result<std::unique_ptr<CertificateAuthority>> ca = CertificateAuthority::LoadOrCreate(pki_, kNow);
  ASSERT_TRUE(ca.ok());
  const SubjectAltNames bad[] = {
      {},
      {.dns_names = {"bad name"}},
      {.dns_names = {"a..b"}},
      {.dns_names = {"-a.b"}},
      {.dns_names = {"a,DNS:evil.com"}},
      {.dns_names = {std::string(64, 'a') + ".com"}},
      {.ip_addresses = {"300.1.1.1"}},
      {.ip_addresses = {"node-1"}},
  };
  for (const SubjectAltNames& names : bad) {
    Result<CertAndKey> issued = (*ca)->IssueServingCertificate("x", names, kNow);
    EXPECT_EQ(issued.status().code(), Code::kInvalid)
        << (names.dns_names.empty() ? "" : names.dns_names[0]) << issued.status().ToString();
  }
  Result<CertAndKey> wildcard = (*ca)->IssueServingCertificate("x", {.dns_names = {"*.nodes.local"}}, kNow);
  EXPECT_TRUE(wildcard.ok()) << wildcard.status().ToString();
}

TEST(SubjectAltNamesTest, CanonicalSortsDedupsAndNormalises) {
  SubjectAltNames in{.dns_names = {"B.example", "a.example", "b.example"},
                     .ip_addresses = {"::1", "0:0:0:0:0:0:0:1", "10.0.0.1", "FD00::A"}};
  SubjectAltNames want{.dns_names = {"a.example", "b.example"}, .ip_addresses = {"10.0.0.1", "::1", "fd00::a"}};
  EXPECT_EQ(Canonical(in), want);
  SubjectAltNames apiserver = ApiserverSubjectAltNames({"", "192.168.1.2", "my-host", "localhost"});
  EXPECT_EQ(apiserver.ip_addresses, (std::vector<std::string>{"127.0.0.1", "192.168.1.2", "::1"}));
  EXPECT_EQ(apiserver.dns_names.size(), 6u);
}

}  // namespace
}  // namespace kubes::pki
