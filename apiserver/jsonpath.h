// A small JSONPath evaluator for the paths CRDs use in additionalPrinterColumns
// (upstream: k8s.io/client-go/util/jsonpath, as the apiserver's CRD table convertor
// uses it). Supports `.field`, `['field']`, `[N]`, `[*]`, and filters
// `[?(@.key=="value")]`; the results are the matched values in order.
// Pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/status.h"

namespace kubes::apiserver {

// Evaluates path (with or without surrounding braces: "{.spec.x}" or ".spec.x").
Result<std::vector<nlohmann::json>> EvaluateJsonPath(const nlohmann::json& doc, const std::string& path);

// How a matched value is printed in a table cell: strings as is, others as JSON,
// several values joined by commas.
std::string JsonPathCell(const std::vector<nlohmann::json>& values);

}  // namespace kubes::apiserver
