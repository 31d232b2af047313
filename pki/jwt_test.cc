#include "pki/jwt.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "pki/base64.h"
#include "pki/files.h"

namespace kubes::pki {
namespace {

constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

// RSA key generation is slow; the suite shares one key directory.
class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/kubes-jwt-XXXXXX";
    dir_ = new std::string(mkdtemp(tmpl));
    Result<std::unique_ptr<ServiceAccountKey>> key = ServiceAccountKey::LoadOrCreate(*dir_);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    key_ = key->release();
    Result<std::string> pem = ReadFile(*dir_ + "/sa.key");
    ASSERT_TRUE(pem.ok());
    key_pem_ = new std::string(*pem);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete key_;
    delete dir_;
    delete key_pem_;
  }

  // A token over arbitrary header and payload text, signed RS256 with the suite's key, so a
  // test can check what the verifier does with content Sign would never produce.
  static std::string SignRaw(const std::string& header, const std::string& payload) {
    std::string signed_part = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
    Result<ossl::PkeyPtr> key = ossl::PrivateKeyFromPem(*key_pem_);
    EXPECT_TRUE(key.ok());
    ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
    size_t len = 0;
    auto in = reinterpret_cast<const unsigned char*>(signed_part.data());
    EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key->get()), 1);
    EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, in, signed_part.size()), 1);
    std::string sig(len, '\0');
    EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, signed_part.size()), 1);
    sig.resize(len);
    return signed_part + "." + Base64UrlEncode(sig);
  }

  static std::string Header() { return Json{{"alg", "RS256"}, {"kid", key_->key_id()}}.dump(); }

  static std::string* dir_;
  static std::string* key_pem_;
  static ServiceAccountKey* key_;
};
std::string* JwtTest::dir_ = nullptr;
std::string* JwtTest::key_pem_ = nullptr;
ServiceAccountKey* JwtTest::key_ = nullptr;

Json ServiceAccountClaims() {
  return Json{{"iss", "https://kubernetes.default.svc.cluster.local"},
              {"sub", "system:serviceaccount:default:builder"},
              {"aud", {"https://kubernetes.default.svc.cluster.local"}},
              {"iat", kNow},
              {"nbf", kNow},
              {"exp", kNow + 3600},
              {"kubernetes.io", {{"namespace", "default"}, {"serviceaccount", {{"name", "builder"}, {"uid", "u-1"}}}}}};
}

TEST_F(JwtTest, SignThenVerifyReturnsTheClaims) {
  Result<std::string> token = key_->Sign(ServiceAccountClaims());
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  Result<Json> claims = key_->Verify(*token, kNow + 10);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(*claims, ServiceAccountClaims());

  std::string header_b64 = token->substr(0, token->find('.'));
  std::optional<std::string> header = Base64UrlDecode(header_b64);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(Json::parse(*header), (Json{{"alg", "RS256"}, {"kid", key_->key_id()}}));
}

TEST_F(JwtTest, KeyIdIsSha256OfTheDerPublicKey) {
  // Recompute from sa.pub: the PEM body is base64 of the DER SubjectPublicKeyInfo.
  Result<std::string> pub = ReadFile(*dir_ + "/sa.pub");
  ASSERT_TRUE(pub.ok());
  std::string body;
  for (size_t pos = pub->find('\n') + 1; pos < pub->size();) {
    size_t end = pub->find('\n', pos);
    std::string line = pub->substr(pos, end - pos);
    if (line.starts_with("-----END")) break;
    body += line;
    pos = end + 1;
  }
  std::optional<std::string> der = Base64Decode(body);
  ASSERT_TRUE(der.has_value());
  EXPECT_EQ(key_->key_id(), Base64UrlEncode(ossl::Sha256(*der)));
  EXPECT_EQ(key_->key_id().size(), 43u);
}

TEST_F(JwtTest, ReloadKeepsTheKeyAndItsMode) {
  Result<std::unique_ptr<ServiceAccountKey>> again = ServiceAccountKey::LoadOrCreate(*dir_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->key_id(), key_->key_id());
  Result<std::string> token = key_->Sign(ServiceAccountClaims());
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE((*again)->Verify(*token, kNow).ok());
  struct stat st {};
  ASSERT_EQ(stat((*dir_ + "/sa.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(JwtTest, TimeClaimsAreCheckedWithOneMinuteLeeway) {
  struct Case {
    const char* name;
    Json claims;
    int64_t now;
    const char* error;  // nullptr: accepted
  };
  const Case cases[] = {
      {"no time claims", Json{{"sub", "x"}}, kNow, nullptr},
      {"valid", Json{{"nbf", kNow}, {"exp", kNow + 10}}, kNow, nullptr},
      {"expired within leeway", Json{{"exp", kNow - 59}}, kNow, nullptr},
      {"expired", Json{{"exp", kNow - 61}}, kNow, "service account token has expired"},
      {"not valid yet within leeway", Json{{"nbf", kNow + 59}}, kNow, nullptr},
      {"not valid yet", Json{{"nbf", kNow + 61}}, kNow, "service account token is not valid yet"},
      {"issued in the future", Json{{"iat", kNow + 120}}, kNow, "service account token is issued in the future"},
      {"fractional exp", Json{{"exp", double(kNow) + 0.5}}, kNow, nullptr},
      {"huge exp", Json{{"exp", 1e300}}, kNow, nullptr},
      {"huge unsigned exp", Json{{"exp", UINT64_MAX}}, kNow, nullptr},
      {"exp at int64 min", Json{{"exp", INT64_MIN}}, kNow, "has expired"},
      {"now at int64 max", Json{{"exp", kNow}}, INT64_MAX, "has expired"},
      {"now at int64 min", Json{{"nbf", kNow}}, INT64_MIN, "not valid yet"},
      {"exp is a string", Json{{"exp", "tomorrow"}}, kNow, "claim \"exp\" is not a number"},
      {"nbf is null", Json{{"nbf", nullptr}}, kNow, "claim \"nbf\" is not a number"},
  };
  for (const Case& c : cases) {
    Result<std::string> token = key_->Sign(c.claims);
    ASSERT_TRUE(token.ok()) << c.name;
    Result<Json> got = key_->Verify(*token, c.now);
    if (c.error == nullptr) {
      EXPECT_TRUE(got.ok()) << c.name << ": " << got.status().ToString();
      continue;
    }
    ASSERT_FALSE(got.ok()) << c.name;
    EXPECT_EQ(got.status().code(), Code::kUnauthorized) << c.name;
    EXPECT_NE(got.status().message().find(c.error), std::string::npos) << c.name << ": " << got.status().message();
  }
}

TEST_F(JwtTest, TamperedOrMalformedTokensAreRejected) {
  Result<std::string> good = key_->Sign(ServiceAccountClaims());
  ASSERT_TRUE(good.ok());
  const std::string token = *good;
  const size_t dot1 = token.find('.'), dot2 = token.rfind('.');
  auto flip = [&](size_t pos) {
    std::string t = token;
    t[pos] = t[pos] == 'A' ? 'B' : 'A';
    return t;
  };
  Json admin_claims = ServiceAccountClaims();
  admin_claims["sub"] = "system:serviceaccount:kube-system:admin";
  std::string swapped_payload = token.substr(0, dot1 + 1) + Base64UrlEncode(admin_claims.dump()) + token.substr(dot2);

  Result<std::unique_ptr<ServiceAccountKey>> other = ServiceAccountKey::LoadOrCreate(*dir_ + "/other");
  ASSERT_TRUE(other.ok());
  Result<std::string> foreign = (*other)->Sign(ServiceAccountClaims());
  ASSERT_TRUE(foreign.ok());
  std::string foreign_without_kid =
      Base64UrlEncode(R"({"alg":"RS256"})") + foreign->substr(foreign->find('.'));
  const std::string claims = ServiceAccountClaims().dump();

  struct Case {
    const char* name;
    std::string token;
    const char* error;
  };
  const Case cases[] = {
      {"payload byte flipped", flip(dot1 + 5), "invalid token signature"},
      {"signature byte flipped", flip(dot2 + 5), "invalid token signature"},
      {"header byte flipped", flip(3), "malformed token"},
      {"payload swapped", swapped_payload, "invalid token signature"},
      {"signature dropped", token.substr(0, dot2 + 1), "invalid token signature"},
      {"two parts", token.substr(0, dot2), "three dot-separated parts"},
      {"four parts", token + ".", "three dot-separated parts"},
      {"empty", "", "three dot-separated parts"},
      {"padded signature", token + "==", "not base64url"},
      {"standard alphabet", token.substr(0, dot2) + ".ab+/", "not base64url"},
      {"other key", *foreign, "unknown key"},
      {"other key without kid", foreign_without_kid, "invalid token signature"},
      {"alg none", Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(claims) + ".", "\"none\""},
      {"alg HS256", SignRaw(R"({"alg":"HS256"})", claims), "unsupported signing algorithm \"HS256\""},
      {"no alg", SignRaw(R"({"kid":"x"})", claims), "no \"alg\""},
      {"kid not a string", SignRaw(R"({"alg":"RS256","kid":7})", claims), "unknown key"},
      {"crit", SignRaw(R"({"alg":"RS256","crit":["b64"],"b64":false})", claims), "critical"},
      {"header not JSON", SignRaw("{alg:RS256}", claims), "header is not a JSON object"},
      {"header an array", SignRaw(R"(["RS256"])", claims), "header is not a JSON object"},
      {"payload an array", SignRaw(Header(), "[1,2]"), "payload is not a JSON object"},
      {"payload not UTF-8", SignRaw(Header(), "{\"sub\":\"\xff\"}"), "payload is not a JSON object"},
      {"too long", std::string(kMaxTokenBytes + 1, 'a'), "longer than"},
  };
  for (const Case& c : cases) {
    Result<Json> got = key_->Verify(c.token, kNow);
    ASSERT_FALSE(got.ok()) << c.name;
    EXPECT_EQ(got.status().code(), Code::kUnauthorized) << c.name;
    EXPECT_NE(got.status().message().find(c.error), std::string::npos) << c.name << ": " << got.status().message();
  }
  // Content the signer would not produce is still accepted when the signature is good.
  EXPECT_TRUE(key_->Verify(SignRaw(R"({"alg":"RS256","typ":"JWT"})", claims), kNow).ok());
}

TEST_F(JwtTest, SignRejectsWhatIsNotAClaimsObject) {
  EXPECT_EQ(key_->Sign(Json::array({1})).status().code(), Code::kInvalid);
  EXPECT_EQ(key_->Sign(Json("sub")).status().code(), Code::kInvalid);
  EXPECT_EQ(key_->Sign(Json{{"sub", "\xff\xfe"}}).status().code(), Code::kInvalid);
}

TEST_F(JwtTest, JwksDescribesThePublicKey) {
  Result<Json> jwks = key_->Jwks();
  ASSERT_TRUE(jwks.ok()) << jwks.status().ToString();
  ASSERT_EQ((*jwks)["keys"].size(), 1u);
  const Json& k = (*jwks)["keys"][0];
  EXPECT_EQ(k["kty"], "RSA");
  EXPECT_EQ(k["alg"], "RS256");
  EXPECT_EQ(k["use"], "sig");
  EXPECT_EQ(k["kid"], key_->key_id());
  EXPECT_EQ(k["e"], "AQAB");  // 65537
  std::optional<std::string> n = Base64UrlDecode(k["n"].get<std::string>());
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->size(), 256u);  // 2048 bits
}

TEST(ServiceAccountKeyTest, OnlyRsaKeysOfAtLeast2048Bits) {
  Result<ossl::PkeyPtr> ec = ossl::GenerateEcP256Key();
  Result<ossl::PkeyPtr> small = ossl::GenerateRsaKey(1024);
  ASSERT_TRUE(ec.ok() && small.ok());
  EXPECT_EQ(ServiceAccountKey::FromPem(*ossl::PrivateKeyToPem(ec->get())).status().code(), Code::kInvalid);
  EXPECT_EQ(ServiceAccountKey::FromPem(*ossl::PrivateKeyToPem(small->get())).status().code(), Code::kInvalid);
  EXPECT_FALSE(ServiceAccountKey::FromPem("not a key").ok());
}

}  // namespace
}  // namespace kubes::pki
