// Route handlers, grouped per resource. Each is thin: parse, call the core, render.
#pragma once

#include <string_view>

#include "app/http/reply.h"
#include "core/health.h"

namespace app::http {

// GET /v1/health
Handler health_get(const core::HealthService& health);
// GET /v1/openapi.json
Handler openapi_get(std::string_view document);

}  // namespace app::http
