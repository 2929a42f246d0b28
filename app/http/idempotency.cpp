#include "app/http/idempotency.h"

#include "app/http/error_mapping.h"
#include "app/http/guard.h"
#include "app/http/router.h"

namespace app::http {

bool kept_for_replay(core::ErrorCode code) {
  using core::ErrorCode;
  switch (code) {
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kForbidden:
    case ErrorCode::kPayloadTooLarge:
    case ErrorCode::kUnsupportedMediaType:
    case ErrorCode::kRateLimited:
    case ErrorCode::kIdempotencyKeyInUse:
    case ErrorCode::kIdempotencyKeyReused:
    case ErrorCode::kSendBlocked:  // a block may be lifted: the retry is judged again
    case ErrorCode::kInternal:
    case ErrorCode::kUnavailable:
    case ErrorCode::kSmsNotConfigured:
      return false;
    default:
      return true;
  }
}

namespace {

// The route's answer under the key `scope`, once the caller is authenticated.
core::Result<Reply> run_keyed(const Handler& route, const HttpRequest& request, const std::string& scope,
                              core::IdempotencyService& keys) {
  if (request.raw.get_header_value_count(kIdempotencyKeyHeader) > 1) {
    return core::Error::invalid_argument("Idempotency-Key must be sent once.",
                                         {{"fields", {{kIdempotencyKeyHeader, "must be sent once"}}}});
  }
  auto key = core::parse_idempotency_key(request.raw.get_header_value(kIdempotencyKeyHeader));
  if (!key.ok()) return key.error();
  const std::string fingerprint = core::request_fingerprint(request.raw.method, request.raw.target, request.raw.body);
  std::optional<core::Result<Reply>> first;
  auto outcome = keys.run(scope, key.value(), fingerprint, [&]() -> std::optional<core::StoredAnswer> {
    first.emplace(route(request));  // may run again on PostgreSQL after a conflict
    if (first->ok()) {
      const Reply& reply = first->value();
      return core::StoredAnswer{reply.status, reply.text ? *reply.text : reply_bytes(reply.body)};
    }
    const core::Error& error = first->error();
    if (!kept_for_replay(error.code)) return std::nullopt;
    return core::StoredAnswer{http_status(error.code), reply_bytes(error_envelope(error, request.request_id))};
  });
  if (!outcome.ok()) return outcome.error();
  if (!outcome.value().replayed) return std::move(*first);
  const core::StoredAnswer& stored = *outcome.value().replayed;
  Reply replay = Reply::plain(stored.body, "application/json; charset=utf-8", stored.status);
  replay.headers.emplace_back(kReplayedHeader, "true");
  return replay;
}

}  // namespace

Handler keyed_by_application(Handler route, core::ApplicationService& applications, core::IdempotencyService& keys) {
  return [route = std::move(route), &applications, &keys](const HttpRequest& request) -> core::Result<Reply> {
    if (!request.raw.has_header(kIdempotencyKeyHeader)) return route(request);
    auto app = app_credentials(request, applications);
    if (!app.ok()) return app.error();
    return run_keyed(route, request, "app:" + app.value().id, keys);
  };
}

Handler keyed_by_developer(Handler route, core::AccountService& accounts, core::IdempotencyService& keys) {
  return [route = std::move(route), &accounts, &keys](const HttpRequest& request) -> core::Result<Reply> {
    if (!request.raw.has_header(kIdempotencyKeyHeader)) return route(request);
    auto developer = console_developer(request, accounts);
    if (!developer.ok()) return developer.error();
    return run_keyed(route, request, "developer:" + developer.value().id, keys);
  };
}

}  // namespace app::http
