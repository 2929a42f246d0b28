// Errors as values: the error codes of SPEC §1 and a small Result<T>. Value types; not
// synchronised (copy them between threads).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace core {

enum class ErrorCode {
  kInvalidArgument,
  kInvalidCode,
  kUnauthenticated,
  kForbidden,
  kPlanLimitExceeded,
  kNotFound,
  kMethodNotAllowed,
  kConflict,
  kOtpAlreadyVerified,
  kOtpExpired,
  kOtpFailed,
  kPayloadTooLarge,
  kUnsupportedMediaType,
  kRateLimited,
  kInternal,
  kUnavailable,
  kIdempotencyKeyInUse,   // SPEC §16
  kIdempotencyKeyReused,
  kSendBlocked,  // SPEC §17
  kSmsNotConfigured,  // keep last: app/metrics.h sizes its per-code counters by it
};

// The wire name of a code, e.g. "INVALID_ARGUMENT".
std::string_view error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  nlohmann::json details = nullptr;  // null = no details

  static Error invalid_argument(std::string message, nlohmann::json details = nullptr);
  static Error not_found(std::string message = "Not found.");
  static Error internal();
  static Error unavailable(std::string message);
};

// Either a value or an Error. Result<void> is spelled Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}    // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const Error& error() const { return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

struct Ok {};
using Status = Result<Ok>;

}  // namespace core
