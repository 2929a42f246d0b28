#include "app/http/error_mapping.h"


#include "storage/store.h"

namespace app::http {

using core::Error;
using core::ErrorCode;

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kInvalidCode: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kForbidden: return 403;
    case ErrorCode::kPlanLimitExceeded: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kMethodNotAllowed: return 405;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kOtpAlreadyVerified: return 409;
    case ErrorCode::kOtpExpired: return 410;
    case ErrorCode::kOtpFailed: return 410;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kUnsupportedMediaType: return 415;
    case ErrorCode::kRateLimited: return 429;
    case ErrorCode::kInternal: return 500;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kIdempotencyKeyInUse: return 409;
    case ErrorCode::kIdempotencyKeyReused: return 422;
    case ErrorCode::kSendBlocked: return 403;
    case ErrorCode::kSmsNotConfigured: return 503;
  }
  return 500;
}

nlohmann::json error_envelope(const Error& error, std::string_view request_id) {
  nlohmann::json body = {{"code", core::error_code_name(error.code)}, {"message", error.message}};
  if (!error.details.is_null()) body["details"] = error.details;
  body["requestId"] = request_id;
  return {{"error", std::move(body)}};
}

Error error_for_status(int status) {
  switch (status) {
    case 404: return Error::not_found("No such route.");
    case 405: return Error{ErrorCode::kMethodNotAllowed, "Method not allowed.", nullptr};
    case 413: return Error{ErrorCode::kPayloadTooLarge, "Request body is larger than 64 KiB.", nullptr};
    case 414: return Error::invalid_argument("Request URI is too long.");
    case 415: return Error{ErrorCode::kUnsupportedMediaType, "Request body must be application/json.", nullptr};
    case 503: return Error::unavailable("Service unavailable.");
    default:
      if (status >= 500) return Error::internal();
      return Error::invalid_argument("Malformed HTTP request.");
  }
}

Error error_for_exception(std::exception_ptr exception) {
  try {
    std::rethrow_exception(exception);
  } catch (const storage::Failure& e) {
    // A conflict reaches here only after the store's own retries gave up.
    if (e.kind() == storage::FailureKind::kUnavailable || e.kind() == storage::FailureKind::kConflict) {
      return Error::unavailable("Storage is unavailable; try again later.");
    }
    return Error::internal();
  } catch (...) {
    return Error::internal();
  }
}

}  // namespace app::http
