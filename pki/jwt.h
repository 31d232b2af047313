// jwt — signing and verifying service-account tokens (compact JWS, RS256).
//
// Upstream kube-apiserver signs ServiceAccount tokens with --service-account-signing-key-file
// and checks them with --service-account-key-file (pkg/serviceaccount/jwt.go and claims.go
// in kubernetes/kubernetes). A token is three base64url parts joined by dots:
//   header  {"alg":"RS256","kid":"<key id>"}
//   payload the claims: iss, sub, aud, exp, nbf, iat, kubernetes.io {...}
//   signature RSASSA-PKCS1-v1_5 with SHA-256 over "<header>.<payload>"
// The key id is base64url(sha256(DER SubjectPublicKeyInfo)), as upstream computes it, so a
// verifier holding several keys can pick the right one and the JWKS document served at
// /openid/v1/jwks names each key the same way.
//
// Verify checks the form, the algorithm, the key id, the signature and the time claims
// (exp, nbf, iat, with kClockSkewSeconds of leeway like go-jose's jwt.DefaultLeeway). It
// does not decide who the token is for: issuer, audiences and whether the ServiceAccount,
// Secret or Pod it names still exist are the authenticator's business.
//
// Thread-safety: a ServiceAccountKey is immutable after it is built; Sign and Verify may
// run on any number of threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "pki/ossl.h"
#include "util/status.h"

namespace kubes::pki {

using Json = nlohmann::json;

constexpr char kServiceAccountKeyFile[] = "sa.key";  // kubeadm's names
constexpr char kServiceAccountPubFile[] = "sa.pub";
constexpr int kServiceAccountKeyBits = 2048;
// How far exp, nbf and iat may be off before a token is rejected.
constexpr int64_t kClockSkewSeconds = 60;
// Longer tokens are rejected before any parsing. Real ones are about 1 KiB.
constexpr size_t kMaxTokenBytes = 64 * 1024;

class ServiceAccountKey {
 public:
  // Loads <dir>/sa.key (an RSA private key, PEM), creating it (and sa.pub, the public
  // half, for anyone who only verifies) when it does not exist.
  static Result<std::unique_ptr<ServiceAccountKey>> LoadOrCreate(const std::string& dir);
  // A key from PEM text. Invalid unless it is an RSA private key of at least 2048 bits.
  static Result<std::unique_ptr<ServiceAccountKey>> FromPem(std::string_view private_key_pem);

  // base64url(sha256(DER public key)).
  const std::string& key_id() const { return key_id_; }
  const std::string& public_key_pem() const { return public_key_pem_; }

  // A compact JWS whose payload is claims. Invalid unless claims is a JSON object.
  Result<std::string> Sign(const Json& claims) const;

  // The claims of token when it was signed by this key and is valid at `now` (Unix
  // seconds). Unauthorized with the reason otherwise; never throws, whatever token holds.
  Result<Json> Verify(std::string_view token, int64_t now) const;

  // This key as a JSON Web Key Set, the document behind /openid/v1/jwks:
  // {"keys":[{"use":"sig","kty":"RSA","kid":...,"alg":"RS256","n":...,"e":...}]}.
  Result<Json> Jwks() const;

 private:
  ServiceAccountKey(ossl::PkeyPtr key, std::string key_id, std::string public_key_pem)
      : key_(std::move(key)), key_id_(std::move(key_id)), public_key_pem_(std::move(public_key_pem)) {}

  ossl::PkeyPtr key_;
  std::string key_id_;
  std::string public_key_pem_;
};

}  // namespace kubes::pki
