// The console guard: every console route calls it first. Stateless; thread-safe.
#pragma once

#include "app/http/reply.h"
#include "core/accounts.h"

namespace app::http {

// The developer behind `Authorization: Bearer <id-token>`, or 401.
core::Result<core::Developer> console_developer(const HttpRequest& request, core::AccountService& accounts);

}  // namespace app::http
