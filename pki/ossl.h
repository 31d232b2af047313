// ossl — small helpers that make OpenSSL 3 calls read like the rest of kubes.
//
// Internal to pki/: owning smart pointers for OpenSSL objects (so every object is freed
// when its scope ends, as crun ties cleanup to scope), the text of OpenSSL's error queue
// for Status messages, and PEM conversion in both directions. Only the EVP and X509
// interfaces of OpenSSL 3 are used; nothing deprecated (no RSA_*, EC_KEY_*).
//
// Thread-safety: free functions without shared state. OpenSSL's error queue is per
// thread, so ErrorText() reports what failed on the calling thread.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

namespace kubes::pki::ossl {

template <auto FreeFn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    FreeFn(p);
  }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;

// Drains the calling thread's OpenSSL error queue into one line ("" if it was empty).
std::string ErrorText();

// An Internal Status "<what>: <OpenSSL error text>"; drains the error queue.
Status Failure(const std::string& what);

// New key pairs. EC P-256 for certificates (small, fast, accepted by Go's crypto/tls
// and by Python's ssl); RSA for service-account tokens (RS256, the upstream default).
Result<PkeyPtr> GenerateEcP256Key();
Result<PkeyPtr> GenerateRsaKey(int bits);

// PEM text <-> objects. Private keys are written as PKCS#8 ("BEGIN PRIVATE KEY").
Result<std::string> PrivateKeyToPem(EVP_PKEY* key);
Result<std::string> PublicKeyToPem(EVP_PKEY* key);
Result<std::string> CertToPem(X509* cert);
Result<PkeyPtr> PrivateKeyFromPem(std::string_view pem);
// The first certificate in pem.
Result<X509Ptr> CertFromPem(std::string_view pem);

// The DER encoding of key's SubjectPublicKeyInfo.
Result<std::string> PublicKeyDer(EVP_PKEY* key);

// SHA-256 of data, raw 32 bytes.
std::string Sha256(std::string_view data);

}  // namespace kubes::pki::ossl
