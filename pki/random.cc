#include "pki/random.h"

#include <openssl/rand.h>

#include <climits>
#include <vector>

#include "pki/ossl.h"

namespace kubes::pki {

Result<std::string> RandomHexToken(size_t num_bytes) {
  if (num_bytes == 0 || num_bytes > 4096) return Invalid("random token: size must be 1..4096 bytes");
  std::vector<unsigned char> bytes(num_bytes);
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return ossl::Failure("random token");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * num_bytes);
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace kubes::pki
