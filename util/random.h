// Random names and ids the apiserver hands out.
//
// Thread-safe: each thread has its own generator, seeded from std::random_device.
#pragma once

#include <string>

namespace kubes {

// n characters from upstream's generateName alphabet (no vowels, no look-alikes):
// the suffix of generateName objects and of volume names such as kube-api-access-x7k2p.
std::string RandomSuffix(size_t n);
// A random (version 4) UUID, as metadata.uid.
std::string NewUID();

}  // namespace kubes
