#include "apimachinery/validation/field.h"

namespace kubes::validation {

std::string FormatValue(const Json& v) {
  if (v.is_string()) return Json(v.get<std::string>()).dump();  // quoted and escaped
  if (v.is_null()) return "null";
  return v.dump();
}

std::string FieldError::Body() const {
  switch (type) {
    case ErrorType::kRequired:
      return detail.empty() ? "Required value" : "Required value: " + detail;
    case ErrorType::kInvalid:
      return "Invalid value: " + (raw_value && value.is_string() ? value.get<std::string>() : FormatValue(value)) + (detail.empty() ? "" : ": " + detail);
    case ErrorType::kNotSupported:
      return "Unsupported value: " + FormatValue(value) + (detail.empty() ? "" : ": " + detail);
    case ErrorType::kForbidden:
      return detail.empty() ? "Forbidden" : "Forbidden: " + detail;
    case ErrorType::kDuplicate:
      return "Duplicate value: " + FormatValue(value);
    case ErrorType::kNotFound:
      return "Not found: " + FormatValue(value);
    case ErrorType::kTooLong:
      return "Too long: " + detail;
    case ErrorType::kTooMany:
      return "Too many: " + detail;
    case ErrorType::kInternal:
      return "Internal error: " + detail;
  }
  return detail;
}

std::string FieldError::Reason() const {
  switch (type) {
    case ErrorType::kRequired: return "FieldValueRequired";
    case ErrorType::kInvalid: return "FieldValueInvalid";
    case ErrorType::kNotSupported: return "FieldValueNotSupported";
    case ErrorType::kForbidden: return "FieldValueForbidden";
    case ErrorType::kDuplicate: return "FieldValueDuplicate";
    case ErrorType::kNotFound: return "FieldValueNotFound";
    case ErrorType::kTooLong: return "FieldValueTooLong";
    case ErrorType::kTooMany: return "FieldValueTooMany";
    case ErrorType::kInternal: return "InternalError";
  }
  return "FieldValueInvalid";
}

FieldError NotSupported(const Path& p, Json value, const std::vector<std::string>& supported) {
  std::string detail;
  if (!supported.empty()) {
    detail = "supported values: ";
    for (size_t i = 0; i < supported.size(); ++i) {
      if (i) detail += ", ";
      detail += Json(supported[i]).dump();
    }
  }
  return {ErrorType::kNotSupported, p.String(), std::move(value), detail};
}

Status NewInvalid(const std::string& qualified_kind, const std::string& name, const ErrorList& errors) {
  std::string msg = qualified_kind + " \"" + name + "\" is invalid: ";
  if (errors.size() == 1) {
    msg += errors[0].ToString();
  } else {
    msg += "[";
    for (size_t i = 0; i < errors.size(); ++i) {
      if (i) msg += ", ";
      msg += errors[i].ToString();
    }
    msg += "]";
  }
  std::vector<Cause> causes;
  for (const auto& e : errors) causes.push_back({e.Reason(), e.Body(), e.field});
  std::string kind = qualified_kind, group;
  if (auto dot = kind.find('.'); dot != std::string::npos) {
    group = kind.substr(dot + 1);
    kind = kind.substr(0, dot);
  }
  return Status(Code::kInvalid, msg).WithCauses(std::move(causes)).WithDetails({name, group, kind, "", 0});
}

}  // namespace kubes::validation
