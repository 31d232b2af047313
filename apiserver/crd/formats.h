// String formats a custom resource's values are checked against (`format: date-time`).
//
// Upstream: apiextensions-apiserver pkg/apiserver/validation/formats.go drops every
// format not in its supported list before building the validator, and kube-openapi's
// strfmt.Default registry checks the rest (pkg/validation/strfmt, with
// asaskevich/govalidator for several). Numeric formats (int32, int64, float, double)
// are not in that list, so upstream never range-checks them, and neither does kubes.
//
// Names are compared after removing '-', as strfmt's name normalizer does, so
// "date-time" and "datetime" are one format.
//
// Each checker follows the Go function it mirrors; where that function leans on a
// large library (net/mail, net/url, Unicode tables for hostname) the check here covers
// the same grammar without its rarer corners — see the comment on each.
//
// Pure functions: thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace kubes::crd {

// Whether values of this format are checked at all.
bool IsCheckedFormat(std::string_view format);

// Whether value is a valid instance of format. REQUIRES: IsCheckedFormat(format).
bool FormatValidates(std::string_view format, const std::string& value);

// The individual checkers, exposed for tests.
bool IsDate(const std::string& s);      // time.Parse("2006-01-02")
bool IsDateTime(const std::string& s);  // strfmt.IsDateTime
bool IsDuration(const std::string& s);  // strfmt.ParseDuration
bool IsIPv4(const std::string& s);      // netutils.ParseIPSloppy + contains "."
bool IsCIDR(const std::string& s);      // netutils.ParseCIDRSloppy

}  // namespace kubes::crd
