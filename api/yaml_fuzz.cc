// libFuzzer harness for YAML request bodies (api/yaml.h): any bytes give JSON or a
// BadRequest, never a crash or an escaped exception. Seeds: api/fuzz_corpus/yaml/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = kubes::api::YamlToJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (j.ok()) (void)j->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
