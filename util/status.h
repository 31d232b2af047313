// Status and Result<T>: how every kubes call that can fail reports it.
//
// A Status carries a Code that mirrors the Kubernetes API's reasons (NotFound,
// AlreadyExists, Conflict, Invalid, ...) so the apiserver can turn it into a
// metav1.Status with the right HTTP code without a translation table per module.
// Result<T> is shaped like std::expected<T, Status>: either a value or a Status.
//
// Exceptions never cross a module boundary: code that calls a throwing library
// catches there and returns a Status. Both types are cheap to move and are
// immutable once built, so they are safe to hand between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace kubes {

// The reasons of metav1.Status (k8s.io/apimachinery/pkg/apis/meta/v1 StatusReason).
enum class Code {
  kOk,
  kBadRequest,            // 400 BadRequest
  kUnauthorized,          // 401 Unauthorized
  kForbidden,             // 403 Forbidden
  kNotFound,              // 404 NotFound
  kMethodNotAllowed,      // 405 MethodNotAllowed
  kNotAcceptable,         // 406 NotAcceptable
  kAlreadyExists,         // 409 AlreadyExists
  kConflict,              // 409 Conflict
  kGone,                  // 410 Gone
  kExpired,               // 410 Expired ("too old resource version")
  kRequestEntityTooLarge, // 413 RequestEntityTooLarge
  kUnsupportedMediaType,  // 415 UnsupportedMediaType
  kInvalid,               // 422 Invalid
  kTooManyRequests,       // 429 TooManyRequests
  kInternal,              // 500 InternalError
  kServiceUnavailable,    // 503 ServiceUnavailable
  kTimeout,               // 504 Timeout
};

// One entry of metav1.StatusDetails.causes: what is wrong with which field.
struct Cause {
  std::string reason;   // FieldValueInvalid, FieldValueRequired, FieldManagerConflict, ...
  std::string message;  // human text
  std::string field;    // field path such as "spec.replicas"
};

// metav1.StatusDetails without causes: which object the error is about.
struct Details {
  std::string name;
  std::string group;
  std::string kind;
  std::string uid;
  int retry_after_seconds = 0;
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<Cause>& causes() const { return causes_; }
  const Details& details() const { return details_; }

  Status&& WithCauses(std::vector<Cause> causes) && {
    causes_ = std::move(causes);
    return std::move(*this);
  }
  Status&& WithDetails(Details details) && {
    details_ = std::move(details);
    return std::move(*this);
  }
  // Prefixes the message with context: "pod default/web: " + message.
  Status&& Wrap(const std::string& context) && {
    message_ = context + ": " + message_;
    return std::move(*this);
  }

  // "NotFound", "Conflict", ... as metav1.Status.reason spells it; "" for OK.
  std::string Reason() const;
  // The HTTP status code that goes with the reason.
  int HttpCode() const;
  std::string ToString() const { return ok() ? "OK" : Reason() + ": " + message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::vector<Cause> causes_;
  Details details_;
};

inline Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
inline Status AlreadyExists(std::string m) { return Status(Code::kAlreadyExists, std::move(m)); }
inline Status Conflict(std::string m) { return Status(Code::kConflict, std::move(m)); }
inline Status Invalid(std::string m) { return Status(Code::kInvalid, std::move(m)); }
inline Status BadRequest(std::string m) { return Status(Code::kBadRequest, std::move(m)); }
inline Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }
inline Status Gone(std::string m) { return Status(Code::kGone, std::move(m)); }
inline Status Expired(std::string m) { return Status(Code::kExpired, std::move(m)); }
inline Status Forbidden(std::string m) { return Status(Code::kForbidden, std::move(m)); }

// Either a T or a failed Status. Access the value only after checking ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit on purpose
  Result(Status status) : v_(std::move(status)) {      // NOLINT: implicit on purpose
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status has no value");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The failure; OK when the Result holds a value.
  Status status() const { return ok() ? Status::OK() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace kubes

// Returns early from the calling function when a Status-returning call fails.
#define KUBES_RETURN_IF_ERROR(expr)        \
  do {                                     \
    ::kubes::Status kubes_status_ = (expr); \
    if (!kubes_status_.ok()) return kubes_status_; \
  } while (0)
