// Status and Result<T>: how every layer of anshin reports an expected failure.
//
// Layering of errors (see docs/errors.md):
//  - common/, the stores and the adapters return Status / Result<T>, carrying the underlying
//    library's own message (sqlite3_errmsg, curl_easy_strerror, nfc_strerror, OpenSSL's queue).
//  - Asio glue uses boost::system::error_code and converts at the boundary.
//  - Exceptions are reserved for programming errors and for start-up/config failures, which are
//    caught in main() and turned into a clear message and a non-zero exit.
//
// Status is a small value type; it is cheap to move and safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace anshin {

class [[nodiscard]] Status {
 public:
  // Codes map one-to-one to the HTTP statuses the server answers with (see HttpStatusOf).
  enum class Code {
    kOk,
    kInvalidArgument,     // malformed input; the message names the field / row / key
    kNotFound,            // the named thing does not exist
    kAlreadyExists,       // a unique thing was created twice
    kUnauthenticated,     // no or unknown identity
    kPermissionDenied,    // known identity, not allowed (disabled, revoked, other facility)
    kConflict,            // the request contradicts stored state (e.g. another facility's tap)
    kTooLarge,            // over a size limit
    kResourceExhausted,   // rate limit, connection limit, queue full
    kUnavailable,         // transient: network down, relay refusing with 4xx, database busy
    kFailedPrecondition,  // the system is not in a state where this can be done
    kInternal,            // a bug or an unexpected library failure
  };

  Status() = default;  // ok
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status TooLarge(std::string m) { return {Code::kTooLarge, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {Code::kResourceExhausted, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {Code::kFailedPrecondition, std::move(m)};
  }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "invalid argument: taps[3].at: not an RFC 3339 time"
  std::string ToString() const;

  // Prefixes context: Status::NotFound("x").WithContext("loading card") -> "loading card: x".
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

std::string_view CodeName(Status::Code code);
int HttpStatusOf(Status::Code code);

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an ok Status has no value");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace anshin

// Returns the Status of an expression early when it is not ok.
#define ANSHIN_RETURN_IF_ERROR(expr)       \
  do {                                     \
    ::anshin::Status anshin_s_ = (expr);   \
    if (!anshin_s_.ok()) return anshin_s_; \
  } while (0)

#define ANSHIN_CONCAT_INNER_(a, b) a##b
#define ANSHIN_CONCAT_(a, b) ANSHIN_CONCAT_INNER_(a, b)
// ANSHIN_ASSIGN_OR_RETURN(auto x, ComputeX()); returns the Status on failure.
#define ANSHIN_ASSIGN_OR_RETURN(lhs, expr) \
  ANSHIN_ASSIGN_OR_RETURN_IMPL_(ANSHIN_CONCAT_(anshin_r_, __LINE__), lhs, expr)
#define ANSHIN_ASSIGN_OR_RETURN_IMPL_(r, lhs, expr) \
  auto r = (expr);                                  \
  if (!r.ok()) return r.status();                   \
  lhs = std::move(r).value()
