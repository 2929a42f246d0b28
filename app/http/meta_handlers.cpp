#include "app/http/handlers.h"

namespace app::http {

Handler openapi_get(std::string_view document) {
  // Parsed once: the document is embedded and never changes while the server runs.
  auto parsed = std::make_shared<const nlohmann::json>(nlohmann::json::parse(document));
  return [parsed](const HttpRequest&) -> core::Result<Reply> { return Reply{200, *parsed, {}, std::nullopt, {}}; };
}

}  // namespace app::http
