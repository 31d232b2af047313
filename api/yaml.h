// YAML → JSON, for request bodies sent as YAML (server-side apply sends
// application/apply-patch+yaml; clients may send application/yaml).
//
// Mirrors sigs.k8s.io/yaml: the document is converted to the JSON it denotes, plain
// scalars typed as YAML 1.1 core types (123 → number, true → boolean, null/~ → null),
// quoted scalars always strings. Pure function.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "util/status.h"

namespace kubes::api {

// Converts one YAML document. Errors are BadRequest with the parser's line/column.
Result<nlohmann::json> YamlToJson(std::string_view yaml);

}  // namespace kubes::api
