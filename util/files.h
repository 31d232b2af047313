// Reading small files whole: /proc and cgroup files, state files kubes keeps for
// itself. A file that cannot be read reads as "" (callers treat that as "absent").
//
// Thread-safe: pure functions.
#pragma once

#include <cstddef>
#include <string>

namespace kubes {

// The whole file, or "" when it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);
// At most the first `max` bytes.
std::string ReadFilePrefix(const std::string& path, size_t max);

}  // namespace kubes
