// Name, label and annotation checks with upstream's exact messages.
//
// Mirrors k8s.io/apimachinery/pkg/util/validation (IsDNS1123Subdomain, IsDNS1123Label,
// IsQualifiedName, IsValidLabelValue) and pkg/api/validation/objectmeta.go. Each check
// returns the list of problems as message strings (empty = valid), as upstream does.
// Pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "apimachinery/validation/field.h"

namespace kubes::validation {

std::vector<std::string> IsDNS1123Subdomain(std::string_view value);
std::vector<std::string> IsDNS1123Label(std::string_view value);
std::vector<std::string> IsDNS1035Label(std::string_view value);
// Label and annotation keys: an optional DNS subdomain prefix and a name part.
std::vector<std::string> IsQualifiedName(std::string_view value);
std::vector<std::string> IsValidLabelValue(std::string_view value);
// A port name (IANA_SVC_NAME): at most 15 characters, lower case, at least one letter.
std::vector<std::string> IsValidPortName(std::string_view value);

// How an object's name is checked: most kinds use DNS-1123 subdomains, some labels.
enum class NameRule { kDNS1123Subdomain, kDNS1123Label, kDNS1035Label, kPathSegment };

// Validates metadata (name or generateName, namespace presence, labels, annotations,
// ownerReferences, finalizers) of a new or updated object.
void ValidateObjectMeta(const Json& meta, bool namespaced, NameRule rule, const Path& path, ErrorList& errs);

}  // namespace kubes::validation
