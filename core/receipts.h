// Signed verification receipts (SPEC §16): an ES256 key ring of its own (never the console's
// token key), the receipts it signs, its JWKS, and the operator's lifecycle (rotate with a
// publish delay, retire). Every node reads the ring from the database and reloads it at most
// every 2 s, so key changes made by the CLI (or another node) take effect within 5 s.
// Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/random.h"
#include "storage/store.h"

namespace core {

struct ReceiptOptions {
  std::string issuer;                        // --issuer
  std::chrono::seconds ttl{600};             // --receipt-ttl-seconds
  std::chrono::seconds publish_delay{300};   // --receipt-key-publish-seconds: rotate's delay
};

// What a receipt says: one verified OTP request of one application.
struct ReceiptFacts {
  std::string app_id;
  std::string client_id;    // aud
  std::string phone;        // E.164: sub and phone_number
  std::string request_id;   // jti
  TimePoint verified_at;    // auth_time
  std::optional<std::string> nonce;
};

struct Receipt {
  std::string token;       // compact JWS
  std::string expires_at;  // ISO 8601, the exp claim
};

struct ReceiptKeyInfo {
  std::string kid;
  std::string state;  // next | signing | retiring | retired
  std::string created_at;
  std::string signs_from;
};

inline constexpr const char* kReceiptType = "phone-verification+jwt";

class ReceiptSigner {
 public:
  ReceiptSigner(storage::Store& db, const Clock& clock, Random& random, const ServerKey& key, ReceiptOptions options);
  ~ReceiptSigner();
  ReceiptSigner(const ReceiptSigner&) = delete;
  ReceiptSigner& operator=(const ReceiptSigner&) = delete;

  // Signs with the key whose turn it is (making one first if none can sign).
  Receipt sign(const ReceiptFacts& facts);
  // { "keys": [...] }: the signing key, next keys, and superseded keys whose receipts may still
  // be unexpired.
  nlohmann::json jwks();
  // Every key, retired ones too, newest first.
  std::vector<ReceiptKeyInfo> list();

  // Makes a signing key if none can sign (first start, or every key retired); returns its kid.
  std::string ensure_signing_key();
  // A new key, published now, signing from now + delay; returns its kid.
  std::string rotate(std::chrono::seconds delay);
  // Takes `kid` out of the JWKS at once. Retiring the signing key promotes the next key now, or
  // makes a new one that signs now. NOT_FOUND for an unknown kid.
  Status retire(const std::string& kid);

  const ReceiptOptions& options() const { return options_; }

 private:
  struct Ring;
  std::shared_ptr<const Ring> ring(bool force = false);

  storage::Store& db_;
  const Clock& clock_;
  Random& random_;
  ServerKey::Bytes seal_key_;
  ReceiptOptions options_;
  std::mutex mutex_;
  std::shared_ptr<const Ring> ring_;
  std::chrono::steady_clock::time_point loaded_at_{};
};

}  // namespace core
