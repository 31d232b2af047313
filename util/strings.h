// Small string helpers shared across components. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kubes {

// "a, b, c" from {"a","b","c"} and ", ".
inline std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

// A field path one step deeper: "spec" + "replicas" → "spec.replicas"; "" + "spec" → "spec".
inline std::string JoinPath(std::string_view path, std::string_view name) {
  std::string out(path);
  if (!out.empty()) out += '.';
  out += name;
  return out;
}

}  // namespace kubes
