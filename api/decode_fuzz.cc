// libFuzzer harness for JSON request bodies: parse, then run the decode checks,
// defaulting and schema validation against a kind chosen by the first byte. None of
// it may crash, whatever the bytes. Seeds: api/fuzz_corpus/decode/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kubes::api;
  if (size < 1) return 0;
  const SchemaRegistry& reg = SchemaRegistry::BuiltIn();
  std::vector<const TypeSchema*> kinds;
  for (const auto& t : reg.types()) {
    if (t->is_object) kinds.push_back(t.get());
  }
  const TypeSchema& kind = *kinds[data[0] % kinds.size()];
  Json obj = Json::parse(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), nullptr, false);
  if (obj.is_discarded() || !obj.is_object()) return 0;
  Json old = obj;
  DecodeReport report = DecodeCheck(obj, kind);
  ApplySchemaDefaults(obj, kind);
  kubes::validation::ErrorList errs;
  ValidateSchema(obj, kind, kubes::validation::Path(), errs);
  ValidateImmutable(obj, old, kind, kubes::validation::Path(), errs);
  for (const auto& e : errs) (void)e.ToString();
  (void)obj.dump();
  return 0;
}
