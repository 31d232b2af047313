// libFuzzer harness for the field manager.
// Input: "<live object JSON>\n<applied configuration JSON>"; inputs that do not parse are
// skipped. Both are run through Apply and UpdateManagedFields against the built-in
// apps/v1 Deployment schema and without a schema, and the configuration is also read as
// fieldsV1. Nothing may crash or throw, and a fieldsV1 set must read back from its own
// encoding unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/schema.h"
#include "apiserver/fieldmanager/fieldmanager.h"

namespace fm = kubes::apiserver::fieldmanager;
using fm::Json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  Json live = Json::parse(input.substr(0, newline), nullptr, /*allow_exceptions=*/false);
  Json config = Json::parse(input.substr(newline + 1), nullptr, /*allow_exceptions=*/false);
  if (live.is_discarded() || config.is_discarded()) return 0;

  static const kubes::api::TypeSchema* deployment =
      kubes::api::SchemaRegistry::BuiltIn().FindKind("apps", "v1", "Deployment");
  for (const kubes::api::TypeSchema* schema : {deployment, static_cast<const kubes::api::TypeSchema*>(nullptr)}) {
    for (bool force : {false, true}) {
      auto applied = fm::Apply(&live, config, "fuzz", force, schema, "apps/v1", 1700000000);
      if (applied.ok()) {
        // Applying the result's own configuration again must work too.
        (void)fm::Apply(&applied->object, config, "kubectl", false, schema, "apps/v1", 1700000001);
      }
    }
    (void)fm::Apply(nullptr, config, "fuzz", false, schema, "apps/v1", 1700000000);
    Json updated = fm::UpdateManagedFields(&live, config, "fuzz", fm::kOperationUpdate, "apps/v1", "", 1700000000,
                                           schema);
    (void)fm::UpdateManagedFields(&updated, live, "other", fm::kOperationUpdate, "apps/v1", "status", 1700000001,
                                  schema);
  }

  auto set = fm::Set::FromFieldsV1(config);
  if (set.ok()) {
    auto again = fm::Set::FromFieldsV1(set->ToFieldsV1());
    if (!again.ok() || !(*again == *set)) std::abort();
    auto from_bytes = fm::Set::FromFieldsV1(Json::parse(set->ToJSON(), nullptr, false));
    if (!from_bytes.ok() || !(*from_bytes == *set)) std::abort();
  }
  return 0;
}
