// libFuzzer harness for the CRD schema code: arbitrary bytes are read as JSON
// {"schema": ..., "object": ...} (or one document used as both) and sent through every
// step — CheckStructural, prune, default, validate — which must never crash.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "apiserver/crd/crd_schema.h"
#include "apiserver/crd/defaulting.h"
#include "apiserver/crd/pruning.h"
#include "apiserver/crd/validation.h"

using kubes::crd::Json;

// Whether v nests deeper than limit. CheckStructural refuses schemas deeper than 256
// levels, so the later steps never see them in the server; the harness skips them too.
static bool Deeper(const Json& v, int limit) {
  if (limit < 0) return true;
  if (!v.is_structured()) return false;
  for (const auto& e : v) {
    if (Deeper(e, limit - 1)) return true;
  }
  return false;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  Json doc = Json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  Json schema = doc, object = doc;
  if (doc.is_object() && doc.contains("schema")) {
    schema = doc["schema"];
    object = doc.value("object", Json(nullptr));
  }
  (void)kubes::crd::CheckStructural(schema);
  (void)kubes::crd::CELWarnings(schema);
  if (!schema.is_object() || Deeper(schema, 600) || Deeper(object, 600)) return 0;
  (void)kubes::crd::Prune(object, schema);
  kubes::crd::PruneNonNullableNullsWithoutDefaults(object, &schema);
  kubes::crd::ApplyDefaults(object, schema);
  kubes::validation::ErrorList errs;
  kubes::crd::Validate(object, schema, kubes::validation::Path(), errs);
  for (const auto& e : errs) (void)e.ToString();
  return 0;
}
