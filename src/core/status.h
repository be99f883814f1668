// Status and StatusOr<T>: how every fallible operation in Comity reports failure.
//
// Our code does not throw. A function that can fail returns Status (no value) or StatusOr<T>.
// Codes follow the canonical set (pick the most specific one). A rule's refusal is a Decision,
// never an error.
//
//   StatusOr<Request> r = ParseRequest(text);
//   if (!r.ok()) return r.status();
//   ASSIGN_OR_RETURN(Profile p, LoadProfile(path));
//   RETURN_IF_ERROR(store.Put(key, value));
//
// Status carries an optional JSON Pointer ("/measures/0/duration_days") naming the part of the
// input that is wrong, so that the CLI and the API can both point at it.
//
// Thread-compatible: const methods may be called concurrently.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace comity {

enum class StatusCode {
  kOk = 0,
  kCancelled,
  kUnknown,
  kInvalidArgument,  // the input is wrong: malformed, schema violation, unknown reference
  kDeadlineExceeded,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kResourceExhausted,  // a size, count or rate limit was exceeded
  kFailedPrecondition,
  kAborted,  // concurrency conflict: retry at a higher level
  kOutOfRange,
  kUnimplemented,
  kInternal,
  kUnavailable,  // transient: retry the call
  kDataLoss,     // stored data is corrupt or a cryptographic check failed
  kUnauthenticated,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::string pointer = {})
      : code_(code), message_(std::move(message)), pointer_(std::move(pointer)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // JSON Pointer into the input that caused the error; empty when not applicable.
  const std::string& pointer() const { return pointer_; }

  // "INVALID_ARGUMENT: /a/b: message" style, for logs and stderr. The pointer is not repeated
  // when the message already starts with it (as the codecs' messages do).
  std::string ToString() const;

  // Returns a copy with `prefix` prepended to the message ("file.json: ...").
  Status WithContext(std::string_view prefix) const;

  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string pointer_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string msg, std::string pointer = {}) {
  return Status(StatusCode::kInvalidArgument, std::move(msg), std::move(pointer));
}
inline Status NotFoundError(std::string msg) {
  return Status(StatusCode::kNotFound, std::move(msg));
}
inline Status AlreadyExistsError(std::string msg) {
  return Status(StatusCode::kAlreadyExists, std::move(msg));
}
inline Status FailedPreconditionError(std::string msg) {
  return Status(StatusCode::kFailedPrecondition, std::move(msg));
}
inline Status InternalError(std::string msg) {
  return Status(StatusCode::kInternal, std::move(msg));
}
inline Status UnavailableError(std::string msg) {
  return Status(StatusCode::kUnavailable, std::move(msg));
}
inline Status ResourceExhaustedError(std::string msg, std::string pointer = {}) {
  return Status(StatusCode::kResourceExhausted, std::move(msg), std::move(pointer));
}
inline Status DataLossError(std::string msg) {
  return Status(StatusCode::kDataLoss, std::move(msg));
}
inline Status OutOfRangeError(std::string msg) {
  return Status(StatusCode::kOutOfRange, std::move(msg));
}
inline Status PermissionDeniedError(std::string msg) {
  return Status(StatusCode::kPermissionDenied, std::move(msg));
}
inline Status UnauthenticatedError(std::string msg) {
  return Status(StatusCode::kUnauthenticated, std::move(msg));
}
inline Status AbortedError(std::string msg) { return Status(StatusCode::kAborted, std::move(msg)); }
inline Status UnimplementedError(std::string msg) {
  return Status(StatusCode::kUnimplemented, std::move(msg));
}

// The one mapping from status codes to process exit codes (0 ok, 2 invalid input, 1 otherwise)
// and to HTTP statuses.
int ExitCodeFor(const Status& s);
int HttpStatusFor(const Status& s);

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const T& value) : v_(value) {}               // NOLINT(google-explicit-constructor)
  StatusOr(T&& value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  StatusOr(const Status& status) : v_(status) {}        // NOLINT(google-explicit-constructor)
  StatusOr(Status&& status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 1; }
  Status status() const { return ok() ? OkStatus() : std::get<0>(v_); }

  // Precondition: ok().
  const T& value() const& { return std::get<1>(v_); }
  T& value() & { return std::get<1>(v_); }
  T&& value() && { return std::get<1>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace comity

#define COMITY_CONCAT_INNER(a, b) a##b
#define COMITY_CONCAT(a, b) COMITY_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                \
  do {                                       \
    ::comity::Status _comity_st = (expr);    \
    if (!_comity_st.ok()) return _comity_st; \
  } while (0)

#define COMITY_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  COMITY_ASSIGN_OR_RETURN_IMPL(COMITY_CONCAT(_comity_so_, __LINE__), lhs, expr)
