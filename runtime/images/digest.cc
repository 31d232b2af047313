#include "runtime/images/digest.h"

#include <openssl/evp.h>
#include <sys/utsname.h>

namespace kubes::runtime::images {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::Update(const void* data, size_t size) {
  if (size > 0) EVP_DigestUpdate(impl_->ctx, data, size);
}

std::string Sha256::Digest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, md, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

std::string Sha256Digest(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Digest();
}

Status ValidateDigest(std::string_view digest) {
  const size_t colon = digest.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == digest.size()) {
    return Invalid("invalid checksum digest format");
  }
  const std::string_view algorithm = digest.substr(0, colon);
  const std::string_view hex = digest.substr(colon + 1);
  if (algorithm == "sha384" || algorithm == "sha512") {
    return Invalid("unsupported digest algorithm: " + std::string(algorithm) + " (kubes stores sha256 only)");
  }
  if (algorithm != "sha256") return Invalid("unsupported digest algorithm");
  if (hex.size() != 64) return Invalid("invalid checksum digest length");
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return Invalid("invalid checksum digest format");
  }
  return Status::OK();
}

Platform HostPlatform() {
  struct utsname u {};
  uname(&u);
  const std::string machine = u.machine;
  Platform p{"linux", machine, ""};
  if (machine == "x86_64") p.architecture = "amd64";
  else if (machine == "aarch64" || machine == "arm64") p = {"linux", "arm64", "v8"};
  else if (machine == "i686" || machine == "i386") p.architecture = "386";
  else if (machine.rfind("armv7", 0) == 0) p = {"linux", "arm", "v7"};
  else if (machine == "ppc64le") p.architecture = "ppc64le";
  else if (machine == "s390x") p.architecture = "s390x";
  else if (machine == "riscv64") p.architecture = "riscv64";
  return p;
}

}  // namespace kubes::runtime::images
