// random — secrets made from the operating system's random number generator.
//
// kube-apiserver's static token file and k3s's server token are random strings handed to
// an administrator; kubes makes its bootstrap admin bearer token the same way: 32 bytes
// from OpenSSL's CSPRNG (seeded by getrandom), written as 64 lower-case hex digits.
//
// Thread-safety: safe from any thread (OpenSSL's RAND is thread-safe).
#pragma once

#include <cstddef>
#include <string>

#include "util/status.h"

namespace kubes::pki {

constexpr size_t kBootstrapTokenBytes = 32;

// num_bytes random bytes as 2*num_bytes lower-case hex digits. Internal when the random
// generator cannot be used (never expected on Linux).
Result<std::string> RandomHexToken(size_t num_bytes = kBootstrapTokenBytes);

}  // namespace kubes::pki
