#include "core/error.h"

namespace core {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case ErrorCode::kInvalidCode: return "INVALID_CODE";
    case ErrorCode::kUnauthenticated: return "UNAUTHENTICATED";
    case ErrorCode::kForbidden: return "FORBIDDEN";
    case ErrorCode::kPlanLimitExceeded: return "PLAN_LIMIT_EXCEEDED";
    case ErrorCode::kNotFound: return "NOT_FOUND";
    case ErrorCode::kMethodNotAllowed: return "METHOD_NOT_ALLOWED";
    case ErrorCode::kConflict: return "CONFLICT";
    case ErrorCode::kOtpAlreadyVerified: return "OTP_ALREADY_VERIFIED";
    case ErrorCode::kOtpExpired: return "OTP_EXPIRED";
    case ErrorCode::kOtpFailed: return "OTP_FAILED";
    case ErrorCode::kPayloadTooLarge: return "PAYLOAD_TOO_LARGE";
    case ErrorCode::kUnsupportedMediaType: return "UNSUPPORTED_MEDIA_TYPE";
    case ErrorCode::kRateLimited: return "RATE_LIMITED";
    case ErrorCode::kInternal: return "INTERNAL";
    case ErrorCode::kUnavailable: return "UNAVAILABLE";
    case ErrorCode::kIdempotencyKeyInUse: return "IDEMPOTENCY_KEY_IN_USE";
    case ErrorCode::kIdempotencyKeyReused: return "IDEMPOTENCY_KEY_REUSED";
    case ErrorCode::kSendBlocked: return "SEND_BLOCKED";
    case ErrorCode::kSmsNotConfigured: return "SMS_NOT_CONFIGURED";
  }
  return "INTERNAL";
}

Error Error::invalid_argument(std::string message, nlohmann::json details) {
  return Error{ErrorCode::kInvalidArgument, std::move(message), std::move(details)};
}

Error Error::not_found(std::string message) {
  return Error{ErrorCode::kNotFound, std::move(message), nullptr};
}

Error Error::internal() {
  return Error{ErrorCode::kInternal, "An internal error occurred.", nullptr};
}

Error Error::unavailable(std::string message) {
  return Error{ErrorCode::kUnavailable, std::move(message), nullptr};
}

}  // namespace core
