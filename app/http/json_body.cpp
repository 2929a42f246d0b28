#include "app/http/json_body.h"

namespace app::http {

core::Result<nlohmann::json> json_object_body(const HttpRequest& request) {
  if (request.raw.body.empty()) return core::Error::invalid_argument("A JSON request body is required.");
  // nlohmann's lexer takes a NUL byte for the end of input and would ignore what follows it;
  // valid JSON never contains one, so the whole body is refused.
  if (request.raw.body.find('\0') != std::string::npos) {
    return core::Error::invalid_argument("Request body is not valid JSON.");
  }
  nlohmann::json body = nlohmann::json::parse(request.raw.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return core::Error::invalid_argument("Request body is not valid JSON.");
  if (!body.is_object()) return core::Error::invalid_argument("Request body must be a JSON object.");
  return body;
}

core::Result<nlohmann::json> optional_json_object_body(const HttpRequest& request) {
  if (request.raw.body.empty()) return nlohmann::json::object();
  return json_object_body(request);
}

std::optional<std::string> query_param(const HttpRequest& request, const char* name) {
  if (!request.raw.has_param(name)) return std::nullopt;
  return request.raw.get_param_value(name);
}

}  // namespace app::http
