#include "core/idempotency.h"

#include <sodium.h>

#include "storage/idempotency.h"
#include "storage/locks.h"

namespace core {

namespace {

Error bad_key(const std::string& why) {
  return Error::invalid_argument("Idempotency-Key " + why + ".", {{"fields", {{"Idempotency-Key", why}}}});
}

bool is_key_character(char c) { return c >= 0x21 && c <= 0x7E && c != '"' && c != '\\'; }

Error in_use() {
  return Error{ErrorCode::kIdempotencyKeyInUse,
               "A request with this Idempotency-Key is still being processed; retry in a second.",
               {{"retryAfter", 1}}};
}

}  // namespace

Result<std::string> parse_idempotency_key(std::string_view value) {
  std::string_view key = value;
  if (key.size() >= 2 && key.front() == '"' && key.back() == '"') key = key.substr(1, key.size() - 2);
  if (key.empty()) return bad_key("must not be empty");
  if (key.size() > kMaxIdempotencyKeyLength) return bad_key("must be at most 255 characters");
  for (const char c : key) {
    if (!is_key_character(c)) {
      return bad_key("must be printable ASCII without spaces, quotes or backslashes (or such a key in double quotes)");
    }
  }
  return std::string(key);
}

std::string request_fingerprint(std::string_view method, std::string_view target, std::string_view body) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, crypto_generichash_BYTES);
  // Lengths first, so no two different triples hash the same bytes.
  for (const std::string_view part : {method, target, body}) {
    const auto size = static_cast<std::uint64_t>(part.size());
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(&size), sizeof size);
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(part.data()), part.size());
  }
  std::string digest(crypto_generichash_BYTES, '\0');
  crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(digest.data()), digest.size());
  return digest;
}

IdempotencyService::IdempotencyService(storage::Store& db, const Clock& clock, Random& random, const ServerKey& key,
                                       std::chrono::hours ttl, std::function<void()> committed)
    : db_(db),
      clock_(clock),
      random_(random),
      seal_key_(key.derive("idem-key")),
      ttl_(ttl),
      committed_(std::move(committed)) {}

std::optional<Result<KeyedOutcome>> IdempotencyService::answer_stored(storage::Connection& c, const std::string& scope,
                                                                       const std::string& key,
                                                                       const std::string& fingerprint,
                                                                       const std::string& fresh_after) {
  const auto row = storage::idempotency::find(c, scope, key);
  if (!row || row->created_at < fresh_after) return std::nullopt;
  if (!constant_time_equal(row->fingerprint, fingerprint)) {
    return Result<KeyedOutcome>(Error{ErrorCode::kIdempotencyKeyReused,
                                      "This Idempotency-Key was used with another method, path or body.", nullptr});
  }
  auto body = unseal(row->body, seal_key_);
  if (!body) throw std::runtime_error("a stored idempotent answer does not open with the server key");
  return Result<KeyedOutcome>(KeyedOutcome{StoredAnswer{row->status, std::move(*body)}});
}

Result<KeyedOutcome> IdempotencyService::run(const std::string& scope, const std::string& key,
                                             const std::string& fingerprint,
                                             const std::function<std::optional<StoredAnswer>()>& first) {
  const TimePoint now = clock_.now();
  const std::string fresh_after = format_timestamp(now - ttl_);
  // A retry usually finds its answer: read it without taking the writer.
  if (auto stored = db_.read([&](storage::Connection& c) { return answer_stored(c, scope, key, fingerprint, fresh_after); })) {
    return std::move(*stored);
  }
  auto outcome = db_.write([&](storage::Connection& c) -> Result<KeyedOutcome> {
    // PostgreSQL: another node (or thread) running this key holds the lock until it commits.
    if (!storage::locks::try_exclusive(c, storage::locks::idempotency_key(scope, key))) return in_use();
    if (auto stored = answer_stored(c, scope, key, fingerprint, fresh_after)) return std::move(*stored);
    const auto answer = first();
    if (answer) {
      storage::idempotency::insert(c,
                                   {scope, key, fingerprint, answer->status, seal(answer->body, seal_key_, random_),
                                    format_timestamp(clock_.now())},
                                   fresh_after);
    }
    return KeyedOutcome{};
  });
  if (committed_ && outcome.ok() && !outcome.value().replayed) committed_();
  return outcome;
}

int IdempotencyService::purge_expired() {
  const std::string cutoff = format_timestamp(clock_.now() - ttl_);
  int total = 0;
  while (true) {
    const int removed = db_.write([&](storage::Connection& c) { return storage::idempotency::purge(c, cutoff, 500); });
    total += removed;
    if (removed < 500) return total;
  }
}

}  // namespace core
