#include "app/http/guard.h"

namespace app::http {

core::Result<core::Developer> console_developer(const HttpRequest& request, core::AccountService& accounts) {
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

}  // namespace app::http
