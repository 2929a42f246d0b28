// Idempotency-Key at the edge (SPEC §16): a decorator for the keyed routes. It authenticates
// (the key is scoped to the app or the developer), reads the key, replays a stored answer, or
// runs the route inside core::IdempotencyService so that its answer is stored with its effects.
// Stateless; thread-safe.
#pragma once

#include "app/http/reply.h"
#include "core/accounts.h"
#include "core/applications.h"
#include "core/idempotency.h"

namespace app::http {

inline constexpr const char* kIdempotencyKeyHeader = "Idempotency-Key";
inline constexpr const char* kReplayedHeader = "Idempotent-Replayed";

// POST /v1/otp/send and /v1/otp/verify: keys are the application's.
Handler keyed_by_application(Handler route, core::ApplicationService& applications, core::IdempotencyService& keys);
// Console POSTs: keys are the developer's.
Handler keyed_by_developer(Handler route, core::AccountService& accounts, core::IdempotencyService& keys);

// Whether an answer with this error is kept for replays: not the answers that say "not now"
// (limits, blocks, a busy key, the server's own failures) or "not you".
bool kept_for_replay(core::ErrorCode code);

}  // namespace app::http
