// The `pattern` keyword: compiling a schema's regular expression and matching it.
//
// Upstream compiles patterns with Go's regexp (RE2 syntax, linear-time matching) both
// when a CRD is created (apiextensions validation: "must be a valid regular expression")
// and when a custom resource is validated (kube-openapi's stringValidator). kubes uses
// std::regex in ECMAScript mode, which reads the common subset of both syntaxes the
// same way (classes, \d \s \w, anchors, counted repeats, groups, alternation). Two Go
// spellings are translated: a leading (?i) becomes the icase flag, and \A / \z become
// ^ / $. Anything std::regex rejects is rejected at CRD creation, so a served schema
// never holds a pattern kubes cannot match.
//
// Matching must not be a denial-of-service vector: libstdc++'s default backtracking
// executor recurses once per input character (a 100k-character string overflows the
// stack). Patterns are therefore compiled in libstdc++'s polynomial (breadth-first)
// mode and matched as `[\s\S]*(?:P)[\s\S]*` in one pass, and patterns whose automaton
// would be huge (repeat counts over 1000, as Go rejects, or an estimated size past a
// fixed budget) are refused.
//
// Thread-safety: compiled patterns are cached behind a mutex; the returned regex is
// immutable and may be used by many threads at once.
#pragma once

#include <memory>
#include <regex>
#include <string>

namespace kubes::crd {

// Compiles a schema pattern. On failure returns nullptr and sets *error to the reason.
std::shared_ptr<const std::regex> CompilePattern(const std::string& pattern, std::string* error);

// Whether the compiled pattern matches anywhere in s (Go's Regexp.MatchString).
bool PatternMatches(const std::regex& re, const std::string& s);

}  // namespace kubes::crd
