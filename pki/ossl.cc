#include "pki/ossl.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <climits>

namespace kubes::pki::ossl {
namespace {

// A read-only memory BIO over text; nullptr when text is too large for OpenSSL's int sizes.
BioPtr MemoryReader(std::string_view text) {
  if (text.size() > static_cast<size_t>(INT_MAX)) return nullptr;
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string Drain(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

// Runs write(bio) into a fresh memory BIO and returns what it wrote.
template <typename WriteFn>
Result<std::string> WritePem(const char* what, WriteFn write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return Failure(std::string("encode ") + what);
  return Drain(bio.get());
}

}  // namespace

std::string ErrorText() {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text;
}

Status Failure(const std::string& what) {
  std::string detail = ErrorText();
  return Internal(detail.empty() ? what : what + ": " + detail);
}

Result<PkeyPtr> GenerateEcP256Key() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return Failure("generate EC P-256 key");
  return key;
}

Result<PkeyPtr> GenerateRsaKey(int bits) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
  if (!key) return Failure("generate RSA key");
  return key;
}

Result<std::string> PrivateKeyToPem(EVP_PKEY* key) {
  return WritePem("private key", [key](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
}

Result<std::string> PublicKeyToPem(EVP_PKEY* key) {
  return WritePem("public key", [key](BIO* b) { return PEM_write_bio_PUBKEY(b, key); });
}

Result<std::string> CertToPem(X509* cert) {
  return WritePem("certificate", [cert](BIO* b) { return PEM_write_bio_X509(b, cert); });
}

Result<PkeyPtr> PrivateKeyFromPem(std::string_view pem) {
  BioPtr bio = MemoryReader(pem);
  // A null passphrase callback with no user data makes OpenSSL refuse encrypted keys
  // instead of prompting on the terminal.
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr)
                  : nullptr);
  if (!key) return Failure("parse PEM private key");
  return key;
}

Result<X509Ptr> CertFromPem(std::string_view pem) {
  BioPtr bio = MemoryReader(pem);
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return Failure("parse PEM certificate");
  return cert;
}

Result<std::string> PublicKeyDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key, &der);
  if (n <= 0) return Failure("encode public key as DER");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::string Sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), digest, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), n);
}

}  // namespace kubes::pki::ossl
