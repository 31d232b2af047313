// Field errors: what is wrong with which field of an object, worded as upstream.
//
// Mirrors k8s.io/apimachinery/pkg/util/validation/field: validators return an
// ErrorList; the apiserver turns it into a 422 Invalid Status whose message reads
//   Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be ...
// and whose causes carry each field path. Plain values, no shared state.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/status.h"

namespace kubes::validation {

using Json = nlohmann::json;

// A field path such as spec.containers[0].image, built step by step.
class Path {
 public:
  Path() = default;
  explicit Path(std::string root) : s_(std::move(root)) {}
  Path Child(const std::string& name) const { return Path(s_.empty() ? name : s_ + "." + name); }
  Path Index(size_t i) const { return Path(s_ + "[" + std::to_string(i) + "]"); }
  Path Key(const std::string& k) const { return Path(s_ + "[" + k + "]"); }
  const std::string& String() const { return s_; }

 private:
  std::string s_;
};

enum class ErrorType { kRequired, kInvalid, kNotSupported, kForbidden, kDuplicate, kNotFound, kTooLong, kTooMany, kInternal };

struct FieldError {
  ErrorType type;
  std::string field;
  Json value;          // the bad value (kInvalid, kNotSupported, kDuplicate)
  std::string detail;  // extra text
  bool raw_value = false;  // value is a string already formatted as Go prints it

  // "Invalid value: -1: must be greater than or equal to 0"
  std::string Body() const;
  // "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
  std::string ToString() const { return field + ": " + Body(); }
  // FieldValueInvalid, FieldValueRequired, ...
  std::string Reason() const;
};

using ErrorList = std::vector<FieldError>;

inline FieldError Required(const Path& p, std::string detail = "") {
  return {ErrorType::kRequired, p.String(), nullptr, std::move(detail)};
}
inline FieldError InvalidValue(const Path& p, Json value, std::string detail) {
  return {ErrorType::kInvalid, p.String(), std::move(value), std::move(detail)};
}
// supported: the allowed values, quoted in the message in the given order.
FieldError NotSupported(const Path& p, Json value, const std::vector<std::string>& supported);
inline FieldError Forbidden(const Path& p, std::string detail) {
  return {ErrorType::kForbidden, p.String(), nullptr, std::move(detail)};
}
inline FieldError Duplicate(const Path& p, Json value) {
  return {ErrorType::kDuplicate, p.String(), std::move(value), ""};
}
// "Not found: \"x\"": the value names something that does not exist.
inline FieldError NotFound(const Path& p, Json value) {
  return {ErrorType::kNotFound, p.String(), std::move(value), ""};
}
inline FieldError TooLong(const Path& p, Json value, size_t max) {
  return {ErrorType::kTooLong, p.String(), std::move(value), "may not be more than " + std::to_string(max) + " bytes"};
}

// The 422 Status: `<Kind> "<name>" is invalid: <errors>` with one cause per error.
// qualified_kind is "Pod" or "Deployment.apps".
Status NewInvalid(const std::string& qualified_kind, const std::string& name, const ErrorList& errors);

// How a value is shown inside messages: strings quoted, numbers bare (Go's %v/%q mix).
std::string FormatValue(const Json& v);

}  // namespace kubes::validation
