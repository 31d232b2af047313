// libFuzzer harness for the JSON patch and JSON merge patch engines.
// Input: "<document JSON>\n<patch JSON>"; inputs that do not parse are skipped.
// Both engines must return (a value or a Status) for any pair, never crash or throw.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "apiserver/patch/json_patch.h"
#include "apiserver/patch/merge_patch.h"

using kubes::apiserver::patch::Json;

// The engines catch library exceptions and report them with this prefix: always a bug.
static bool IsBug(const kubes::Status& s) { return s.message().rfind("internal error in ", 0) == 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  Json doc = Json::parse(input.substr(0, newline), nullptr, /*allow_exceptions=*/false);
  Json patch = Json::parse(input.substr(newline + 1), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || patch.is_discarded()) return 0;

  auto patched = kubes::apiserver::patch::ApplyJsonPatch(doc, patch);
  if (patched.ok()) (void)patched->dump(-1, ' ', false, Json::error_handler_t::replace);
  if (IsBug(patched.status())) std::abort();
  auto merged = kubes::apiserver::patch::MergePatch(doc, patch);
  if (merged.ok()) (void)merged->dump(-1, ' ', false, Json::error_handler_t::replace);
  if (IsBug(merged.status())) std::abort();
  return 0;
}
