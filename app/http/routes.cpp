#include "app/http/routes.h"

#include "app/http/handlers.h"
#include "embedded/embedded.h"

namespace app::http {

std::vector<Route> make_routes(const Services& services) {
  return {
      {"GET", "/v1/health", health_get(services.health)},
      {"GET", "/v1/openapi.json", openapi_get(embedded::kOpenApiJson)},
  };
}

}  // namespace app::http
