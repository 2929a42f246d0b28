// The one place where error codes become HTTP statuses and the SPEC §1 error envelope.
// Stateless; thread-safe.
#pragma once

#include <exception>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/error.h"

namespace app::http {

int http_status(core::ErrorCode code);

// `{ "error": { code, message, details?, requestId } }`
nlohmann::json error_envelope(const core::Error& error, std::string_view request_id);

// The error reported for a status httplib produced by itself (malformed request, 413, ...).
core::Error error_for_status(int status);

// The error reported for an exception that escaped a handler: storage trouble is 503, anything
// else 500. The message never carries the exception's text.
core::Error error_for_exception(std::exception_ptr exception);

}  // namespace app::http
