// libFuzzer harness for the strategic merge patch engine.
// Input: "<original JSON>\n<patch JSON>"; inputs that do not parse are skipped. The root
// type comes from the original's apiVersion/kind (a Pod when they name no known kind), so
// the corpus can steer the fuzzer to any built-in schema.
// Checks: no crash or exception for any pair, and no patch directive survives into a result whose
// original had none.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/schema.h"
#include "apiserver/patch/strategic_merge_patch.h"

using kubes::apiserver::patch::Json;

namespace {

const kubes::api::TypeSchema& RootType(const Json& original) {
  const auto& registry = kubes::api::SchemaRegistry::BuiltIn();
  if (original.is_object() && original.value("apiVersion", Json()).is_string() &&
      original.value("kind", Json()).is_string()) {
    std::string api_version = original["apiVersion"].get<std::string>();
    size_t slash = api_version.find('/');
    std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
    std::string version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
    if (const auto* type = registry.FindKind(group, version, original["kind"].get<std::string>())) return *type;
  }
  return *registry.FindKind("", "v1", "Pod");
}

bool HasDirectiveKeys(const Json& v) {
  if (v.is_array()) {
    for (const Json& e : v) {
      if (HasDirectiveKeys(e)) return true;
    }
    return false;
  }
  if (!v.is_object()) return false;
  for (auto it = v.begin(); it != v.end(); ++it) {
    std::string_view k = it.key();
    if (k == "$patch" || k == "$retainKeys" || k.rfind("$setElementOrder", 0) == 0 ||
        k.rfind("$deleteFromPrimitiveList", 0) == 0 || HasDirectiveKeys(it.value())) {
      return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  Json original = Json::parse(input.substr(0, newline), nullptr, /*allow_exceptions=*/false);
  Json patch = Json::parse(input.substr(newline + 1), nullptr, /*allow_exceptions=*/false);
  if (original.is_discarded() || patch.is_discarded()) return 0;

  auto result = kubes::apiserver::patch::StrategicMergePatch(original, patch, RootType(original));
  if (result.ok() && !HasDirectiveKeys(original) && HasDirectiveKeys(*result)) std::abort();
  // The engine catches library exceptions and reports them with this prefix: always a bug.
  if (result.status().message().rfind("internal error in ", 0) == 0) std::abort();
  return 0;
}
