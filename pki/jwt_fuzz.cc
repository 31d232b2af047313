// libFuzzer harness for ServiceAccountKey::Verify: whatever bytes arrive as a bearer
// token, Verify must return a Status and never crash, hang or leak.
//
// Input byte 0 picks the mode:
//   even: the rest is the token, as an attacker would send it;
//   odd:  the rest is "<header JSON>\n<payload JSON>", signed here with the key, so the
//         fuzzer also reaches what lies behind the signature check (header rules, claims
//         parsing, time arithmetic), which it could never reach by forging signatures.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pki/base64.h"
#include "pki/jwt.h"
#include "pki/ossl.h"

namespace {

struct Fixture {
  kubes::pki::ossl::PkeyPtr private_key;
  std::unique_ptr<kubes::pki::ServiceAccountKey> key;
};

const Fixture& GetFixture() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    fx->private_key = std::move(kubes::pki::ossl::GenerateRsaKey(2048).value());
    std::string pem = kubes::pki::ossl::PrivateKeyToPem(fx->private_key.get()).value();
    fx->key = std::move(kubes::pki::ServiceAccountKey::FromPem(pem).value());
    return fx;
  }();
  return *f;
}

std::string SignRaw(EVP_PKEY* key, std::string_view header, std::string_view payload) {
  std::string signed_part = kubes::pki::Base64UrlEncode(header) + "." + kubes::pki::Base64UrlEncode(payload);
  kubes::pki::ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  auto in = reinterpret_cast<const unsigned char*>(signed_part.data());
  EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(ctx.get(), nullptr, &len, in, signed_part.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, signed_part.size());
  sig.resize(len);
  return signed_part + "." + kubes::pki::Base64UrlEncode(sig);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Fixture& f = GetFixture();
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string token;
  if (data[0] % 2 == 0) {
    token = std::string(rest);
  } else {
    size_t nl = rest.find('\n');
    std::string_view header = nl == std::string_view::npos ? rest : rest.substr(0, nl);
    std::string_view payload = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    token = SignRaw(f.private_key.get(), header, payload);
  }
  // The time comes from the input too, so the clock arithmetic sees extreme values.
  int64_t now = 1767225600;
  if (size >= 9) now = static_cast<int64_t>(uint64_t(data[1]) << 56 | uint64_t(data[size - 1]) << 8 | data[size - 2]);
  kubes::Result<kubes::pki::Json> claims = f.key->Verify(token, now);
  if (claims.ok() && !claims->is_object()) __builtin_trap();  // Verify promises an object
  return 0;
}
