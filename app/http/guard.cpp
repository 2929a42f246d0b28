#include "app/http/guard.h"

namespace app::http {

core::Result<core::Developer> console_developer(const HttpRequest& request, core::AccountService& accounts) {
  // Two Authorization headers are ambiguous: a proxy and the server could each pick a different
  // one, so neither is chosen. (The count is case-insensitive, like httplib's header lookup.)
  if (request.raw.get_header_value_count("Authorization") > 1) {
    return core::Error::invalid_argument("Send exactly one Authorization header.");
  }
  const std::string header = request.raw.get_header_value("Authorization");
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() <= kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), header.begin(),
                  [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); })) {
    return core::Error{core::ErrorCode::kUnauthenticated, "An Authorization: Bearer <id-token> header is required.",
                       nullptr};
  }
  return accounts.authenticate(std::string_view(header).substr(kScheme.size()));
}

core::Result<core::Application> app_credentials(const HttpRequest& request, core::ApplicationService& applications) {
  const auto& raw = request.raw;
  if (!raw.has_header("x-api-key") || !raw.has_header("x-client-id") || !raw.has_header("x-client-secret")) {
    return core::Error{core::ErrorCode::kUnauthenticated,
                       "x-client-id, x-client-secret and x-api-key headers are all required.", nullptr};
  }
  return applications.authenticate(raw.get_header_value("x-client-id"), raw.get_header_value("x-client-secret"),
                                   raw.get_header_value("x-api-key"));
}

}  // namespace app::http
