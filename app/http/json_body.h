// Reading a request's JSON body into a value, with the SPEC's 400 for anything malformed.
#pragma once

#include <nlohmann/json.hpp>

#include "app/http/reply.h"

namespace app::http {

// The body as a JSON object; 400 INVALID_ARGUMENT for an empty body, malformed JSON or a
// non-object.
core::Result<nlohmann::json> json_object_body(const HttpRequest& request);
// The same, but an empty body reads as {} (for endpoints whose body is optional).
core::Result<nlohmann::json> optional_json_object_body(const HttpRequest& request);

// A query parameter's value (percent-decoded), or nullopt when absent.
std::optional<std::string> query_param(const HttpRequest& request, const char* name);

}  // namespace app::http
