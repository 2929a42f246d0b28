// Idempotency keys (SPEC §16): the key's syntax, a request's fingerprint, and running a keyed
// request so that its first answer is stored in the transaction of its effects and replayed
// afterwards. The answer is opaque here (a status number and bytes the edge produced); the
// edge decides which answers are kept. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/random.h"
#include "storage/store.h"

namespace core {

inline constexpr std::size_t kMaxIdempotencyKeyLength = 255;

// The key a header value spells: a bare key of 1-255 characters from 0x21-0x7E other than `"`
// and `\`, or an RFC 8941 string holding one. Anything else is INVALID_ARGUMENT naming the header.
Result<std::string> parse_idempotency_key(std::string_view header_value);

// BLAKE2b-256 of the method, the target as received and the body bytes.
std::string request_fingerprint(std::string_view method, std::string_view target, std::string_view body);

struct StoredAnswer {
  int status = 0;
  std::string body;
};

struct KeyedOutcome {
  std::optional<StoredAnswer> replayed;  // set: the stored first answer; unset: `first` ran now
};

class IdempotencyService {
 public:
  // `committed` runs after a keyed request's transaction committed: the route's own wake-ups
  // of the delivery and webhook workers ran inside it, before its rows could be seen.
  IdempotencyService(storage::Store& db, const Clock& clock, Random& random, const ServerKey& key,
                     std::chrono::hours ttl, std::function<void()> committed = nullptr);

  // A replay of the stored answer for (scope, key) when the fingerprint matches, an error when
  // it does not (IDEMPOTENCY_KEY_REUSED) or when the first request is still running
  // (IDEMPOTENCY_KEY_IN_USE); otherwise runs `first` inside one write transaction (the
  // request's own writes join it) and stores the answer it returns there, if any.
  Result<KeyedOutcome> run(const std::string& scope, const std::string& key, const std::string& fingerprint,
                           const std::function<std::optional<StoredAnswer>()>& first);

  // Deletes keys older than the TTL, in small batches; returns how many.
  int purge_expired();

  std::chrono::hours ttl() const { return ttl_; }

 private:
  // The replay or refusal for a stored row still within the TTL; nullopt when there is none.
  std::optional<Result<KeyedOutcome>> answer_stored(storage::Connection& c, const std::string& scope,
                                                    const std::string& key, const std::string& fingerprint,
                                                    const std::string& fresh_after);

  storage::Store& db_;
  const Clock& clock_;
  Random& random_;
  ServerKey::Bytes seal_key_;
  std::chrono::hours ttl_;
  std::function<void()> committed_;
};

}  // namespace core
