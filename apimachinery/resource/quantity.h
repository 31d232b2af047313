// Quantities as integers: "500m" cpu is 500 millicores, "1Gi" memory 1073741824 bytes
// (upstream: k8s.io/apimachinery/pkg/api/resource Quantity.Value and MilliValue).
//
//   quantity ::= [+-] number suffix
//   number   ::= digits | digits "." [digits] | "." digits
//   suffix   ::= "" | n u m k M G T P E | Ki Mi Gi Ti Pi Ei | (e|E) [+-] digits
//
// Values are exact: the result is rounded up (toward +infinity) to whole units or
// thousandths, as upstream rounds; values beyond int64 saturate at its limits.
// Pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string_view>

namespace kubes::resource {

// nullopt when s is not a quantity.
std::optional<int64_t> QuantityValue(std::string_view s);
std::optional<int64_t> QuantityMilliValue(std::string_view s);

// A quantity inside an API object: a string, or (leniently) a JSON number. 0 when it
// is neither or does not parse.
int64_t QuantityValue(const nlohmann::json& q);
int64_t QuantityMilliValue(const nlohmann::json& q);

// Convenience for text that should hold a quantity: 0 when it does not.
inline int64_t ValueOf(std::string_view s) { return QuantityValue(s).value_or(0); }
inline int64_t MilliValueOf(std::string_view s) { return QuantityMilliValue(s).value_or(0); }

}  // namespace kubes::resource
