// Syntax checks for label keys and values, with Kubernetes' exact wording.
//
// Mirrors the parts of k8s.io/apimachinery/pkg/util/validation that a label
// selector needs: IsQualifiedName (label keys such as "app.kubernetes.io/name"),
// IsValidLabelValue and IsDNS1123Subdomain (the optional key prefix). Each returns
// the list of problems as upstream words them; an empty list means valid. The
// matching is done by hand rather than with std::regex so that hostile input of any
// length costs linear time.
//
// Pure functions; thread-safe.
#pragma once

#include "util/strings.h"

#include <string>
#include <string_view>
#include <vector>

namespace kubes::labels {

inline constexpr size_t kQualifiedNameMaxLength = 63;
inline constexpr size_t kLabelValueMaxLength = 63;
inline constexpr size_t kDNS1123SubdomainMaxLength = 253;

// A label key: [prefix "/"] name, where the prefix is a DNS-1123 subdomain and the
// name is at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric.
std::vector<std::string> IsQualifiedName(std::string_view value);

// A label value: empty, or a name as above.
std::vector<std::string> IsValidLabelValue(std::string_view value);

// Lower-case alphanumerics, '-' and '.', at most 253 characters, each dot-separated
// part starting and ending alphanumeric.
std::vector<std::string> IsDNS1123Subdomain(std::string_view value);

// The text of upstream's field.Invalid error: `<path>: Invalid value: <value>: <detail>`.
// rendered_value is already formatted the Go way (a quoted string, `[]string{...}`).
std::string FieldInvalid(std::string_view path, std::string_view rendered_value, std::string_view detail);

using kubes::Join;  // util/strings.h

}  // namespace kubes::labels
