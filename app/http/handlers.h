// Route handlers, grouped per resource. Each is thin: parse, call the core, render.
#pragma once

#include <string_view>

#include "app/http/reply.h"
#include "core/accounts.h"
#include "core/health.h"

namespace app::http {

// GET /v1/health
Handler health_get(const core::HealthService& health);
// GET /v1/openapi.json
Handler openapi_get(std::string_view document);

// POST /v1/auth/signup, /login, /refresh, /logout
Handler auth_signup(core::AccountService& accounts);
Handler auth_login(core::AccountService& accounts);
Handler auth_refresh(core::AccountService& accounts);
Handler auth_logout(core::AccountService& accounts);
// GET, PATCH /v1/developer/me
Handler developer_me_get(core::AccountService& accounts);
Handler developer_me_patch(core::AccountService& accounts);

}  // namespace app::http
