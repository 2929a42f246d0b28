#include "app/http/routes.h"

#include "app/http/handlers.h"
#include "embedded/embedded.h"

namespace app::http {

std::vector<Route> make_routes(const Services& services) {
  return {
      {"GET", "/v1/health", health_get(services.health)},
      {"GET", "/v1/openapi.json", openapi_get(embedded::kOpenApiJson)},

      {"POST", "/v1/auth/signup", auth_signup(services.accounts)},
      {"POST", "/v1/auth/login", auth_login(services.accounts)},
      {"POST", "/v1/auth/refresh", auth_refresh(services.accounts)},
      {"POST", "/v1/auth/logout", auth_logout(services.accounts)},
      {"GET", "/v1/developer/me", developer_me_get(services.accounts)},
      {"PATCH", "/v1/developer/me", developer_me_patch(services.accounts)},
  };
}

}  // namespace app::http
