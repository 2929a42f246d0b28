// The console guard: every console route calls it first. Stateless; thread-safe.
#pragma once

#include "app/http/reply.h"
#include "core/accounts.h"
#include "core/applications.h"

namespace app::http {

// The developer behind `Authorization: Bearer <id-token>`, or 401; two Authorization headers
// are 400 INVALID_ARGUMENT.
core::Result<core::Developer> console_developer(const HttpRequest& request, core::AccountService& accounts);

// The application behind x-client-id, x-client-secret and x-api-key (all required), or 401/403.
core::Result<core::Application> app_credentials(const HttpRequest& request, core::ApplicationService& applications);

}  // namespace app::http
