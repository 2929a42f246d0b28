#include "core/accounts.h"

#include <sodium.h>

#include "core/ids.h"
#include "core/passwords.h"
#include "core/phone.h"
#include "core/validation.h"
#include "storage/developers.h"

namespace core {

namespace {

constexpr std::size_t kMinPassword = 10;
constexpr std::size_t kMaxPassword = 1024;
constexpr char kRefreshPrefix[] = "cbrt_";

Error unauthenticated(std::string message) { return Error{ErrorCode::kUnauthenticated, std::move(message), nullptr}; }
Error conflict(std::string message) { return Error{ErrorCode::kConflict, std::move(message), nullptr}; }

Developer from_row(const storage::DeveloperRow& row) {
  return Developer{row.id,         row.email,      row.name,       row.company,   row.plan,
                   row.virtual_phone, row.created_at, row.updated_at, row.disabled_at};
}

// The same answer for every refusal of a disabled account: ID token, refresh token, login.
Error account_disabled() { return unauthenticated("This account is disabled; ask the operator."); }

Error no_developer(const std::string& email) { return Error::not_found("No developer with email '" + email + "'."); }

Error rate_limited(std::chrono::seconds wait) {
  return Error{ErrorCode::kRateLimited, "Too many sign-in attempts; try again later.",
               nlohmann::json{{"retryAfter", wait.count()}}};
}

}  // namespace

std::string email_key(std::string_view email) {
  std::string key(email);
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

AccountService::AccountService(storage::Store& db, const Clock& clock, Random& random, const ServerKey& key,
                               const TokenService& tokens, const PlanCatalog& plans, AccountOptions options)
    : db_(db),
      clock_(clock),
      random_(random),
      tokens_(tokens),
      plans_(plans),
      options_(options),
      refresh_key_(key.derive("refresh")),
      login_by_email_(make_rate_limit(db, clock, "login_by_email", options.login_rate_limit, options.login_window,
                                      key.derive("rate-limits"))),
      login_by_address_(make_rate_limit(db, clock, "login_by_address", options.login_rate_limit, options.login_window,
                                        key.derive("rate-limits"))) {}

std::string AccountService::refresh_token_hash(std::string_view token) const {
  std::string hash(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(hash.data()), hash.size(),
                     reinterpret_cast<const unsigned char*>(token.data()), token.size(), refresh_key_.data(),
                     refresh_key_.size());
  return hash;
}

Session AccountService::start_session(const Developer& developer, const std::string& family_id,
                                      const std::string& auth_time) {
  std::array<std::uint8_t, 32> secret{};
  random_.fill(secret);
  const std::string refresh_token = kRefreshPrefix + hex_encode(secret);
  const TimePoint now = clock_.now();
  db_.write([&](storage::Connection& c) {
    storage::refresh_tokens::insert(c, {refresh_token_hash(refresh_token), developer.id, family_id, auth_time,
                                        format_timestamp(now), format_timestamp(now + options_.refresh_lifetime),
                                        std::nullopt});
  });
  const TimePoint auth = parse_timestamp(auth_time).value_or(now);
  return Session{tokens_.issue(developer.id, developer.email, auth), refresh_token, tokens_.lifetime().count(),
                 developer};
}

Result<Developer> AccountService::insert_developer(const NewDeveloper& request,
                                                   const std::optional<std::string>& firebase_uid) {
  const std::string plan = request.plan.value_or(plans_.default_plan());
  if (!plans_.find(plan)) return Error::invalid_argument("Unknown plan '" + plan + "'.", {{"fields", {{"plan", "is not a defined plan"}}}});
  // Hash before taking the write lock: Argon2id is deliberately slow.
  const std::optional<std::string> password_hash =
      request.password ? std::optional<std::string>(hash_password(*request.password)) : std::nullopt;
  const std::string now = format_timestamp(clock_.now());
  storage::DeveloperRow row{new_id(clock_, random_),
                            request.email,
                            request.email.empty() ? "firebase:" + firebase_uid.value_or("") : email_key(request.email),
                            request.name,
                            request.company,
                            plan,
                            "",
                            password_hash,
                            firebase_uid,
                            now,
                            now,
                            std::nullopt};
  const bool inserted = db_.write([&](storage::Connection& c) {
    if (storage::developers::find_by_email_key(c, row.email_key)) return false;
    do {
      row.virtual_phone = "+999" + std::to_string(100'000'000 + random_.uniform(900'000'000));
    } while (storage::developers::virtual_phone_taken(c, row.virtual_phone));
    return storage::developers::insert(c, row);
  });
  if (!inserted) return conflict("An account with this email already exists.");
  return from_row(row);
}

Result<Session> AccountService::signup(const nlohmann::json& body) {
  if (!options_.signup_open) {
    return Error{ErrorCode::kForbidden, "Sign-up is closed on this server; ask the operator for an account.", nullptr};
  }
  FieldReader fields(body);
  const auto email = fields.required_string("email", 3, 254);
  const auto password = fields.required_string("password", kMinPassword, kMaxPassword);
  const auto name = fields.optional_string("name", 0, 100);
  const auto company = fields.optional_string("company", 0, 100);
  if (email && !is_plausible_email(*email)) fields.reject("email", "must be an email address");
  if (!fields.ok()) return fields.error();

  auto created =
      insert_developer({*email, name.value_or(""), company.value_or(""), *password, std::nullopt}, std::nullopt);
  if (!created.ok()) return created.error();
  return start_session(created.value(), new_id(clock_, random_), created.value().created_at);
}

Result<Session> AccountService::login(const nlohmann::json& body, const std::string& client_address) {
  FieldReader fields(body);
  const auto email = fields.required_string("email", 1, 254);
  const auto password = fields.required_string("password", 1, kMaxPassword);
  if (!fields.ok()) return fields.error();

  const std::string key = email_key(*email);
  if (auto wait = login_by_address_->acquire(client_address)) return rate_limited(*wait);
  if (auto wait = login_by_email_->acquire(key)) {
    login_by_address_->release(client_address);
    return rate_limited(*wait);
  }

  const auto row = db_.read([&](storage::Connection& c) { return storage::developers::find_by_email_key(c, key); });
  const bool valid = row && row->password_hash ? verify_password(*row->password_hash, *password)
                                               : (verify_password_decoy(*password), false);
  if (!valid) return unauthenticated("Email or password is incorrect.");
  if (row->disabled_at) return account_disabled();
  const Developer developer = from_row(*row);
  return start_session(developer, new_id(clock_, random_), format_timestamp(clock_.now()));
}

Result<Session> AccountService::refresh(const nlohmann::json& body) {
  FieldReader fields(body);
  const auto token = fields.required_string("refreshToken", 1, 200);
  if (!fields.ok()) return fields.error();
  const std::string hash = refresh_token_hash(*token);
  const std::string now = format_timestamp(clock_.now());

  struct Outcome {
    std::optional<storage::DeveloperRow> developer;
    std::string family_id;
    std::string auth_time;
  };
  const Outcome outcome = db_.write([&](storage::Connection& c) -> Outcome {
    const auto row = storage::refresh_tokens::find(c, hash);
    if (!row || row->expires_at <= now) return {};
    if (!storage::refresh_tokens::mark_used(c, hash, now)) {
      // A used token came back: it was stolen or replayed. End the whole session.
      storage::refresh_tokens::revoke_family(c, row->family_id, now);
      return {};
    }
    return {storage::developers::find_by_id(c, row->developer_id), row->family_id, row->auth_time};
  });
  if (!outcome.developer) return unauthenticated("Refresh token is invalid, expired or already used.");
  if (outcome.developer->disabled_at) return account_disabled();
  return start_session(from_row(*outcome.developer), outcome.family_id, outcome.auth_time);
}

Status AccountService::logout(const nlohmann::json& body) {
  FieldReader fields(body);
  const auto token = fields.required_string("refreshToken", 1, 200);
  if (!fields.ok()) return fields.error();
  const std::string hash = refresh_token_hash(*token);
  const std::string now = format_timestamp(clock_.now());
  db_.write([&](storage::Connection& c) {
    if (const auto row = storage::refresh_tokens::find(c, hash)) {
      storage::refresh_tokens::revoke_family(c, row->family_id, now);
    }
  });
  return Ok{};
}

Result<Developer> AccountService::authenticate(std::string_view id_token) {
  auto verified = tokens_.verify(id_token);
  if (!verified.ok()) return verified.error();
  if (verified.value().issuer == VerifiedToken::Issuer::kFirebase) return developer_for_firebase(verified.value());
  const auto row = db_.read([&](storage::Connection& c) {
    return storage::developers::find_by_id(c, verified.value().subject);
  });
  if (!row) return unauthenticated("The account of this token no longer exists.");
  if (row->disabled_at) return account_disabled();
  return from_row(*row);
}

Result<Developer> AccountService::developer_for_firebase(const VerifiedToken& token) {
  const auto existing = db_.read([&](storage::Connection& c) {
    return storage::developers::find_by_firebase_uid(c, token.subject);
  });
  if (existing) {
    if (existing->disabled_at) return account_disabled();
    return from_row(*existing);
  }

  // First sight. An account with the same email is linked only if Firebase verified the
  // email; otherwise anyone could claim it by signing up with that address.
  if (!token.email.empty()) {
    const auto by_email = db_.read([&](storage::Connection& c) {
      return storage::developers::find_by_email_key(c, email_key(token.email));
    });
    if (by_email) {
      if (!token.email_verified) {
        return unauthenticated("An account with this email exists; verify the email in Firebase to link it.");
      }
      if (by_email->disabled_at) return account_disabled();
      db_.write([&](storage::Connection& c) {
        storage::developers::link_firebase(c, by_email->id, token.subject, format_timestamp(clock_.now()));
      });
      return from_row(*by_email);
    }
  }
  auto created = insert_developer({token.email, token.name.substr(0, 100), "", std::nullopt, std::nullopt}, token.subject);
  if (created.ok()) return created;
  // A concurrent first request created it.
  const auto raced = db_.read([&](storage::Connection& c) {
    return storage::developers::find_by_firebase_uid(c, token.subject);
  });
  if (raced) return from_row(*raced);
  return unauthenticated("Cannot create an account for this Firebase user.");
}

Result<Developer> AccountService::update_profile(const Developer& developer, const nlohmann::json& body) {
  FieldReader fields(body);
  for (const char* fixed : {"plan", "virtualPhoneNumber", "email", "id"}) {
    if (fields.has(fixed)) fields.reject(fixed, "cannot be changed through this endpoint");
  }
  const auto name = fields.optional_string("name", 0, 100);
  const auto company = fields.optional_string("company", 0, 100);
  if (!fields.ok()) return fields.error();

  Developer updated = developer;
  if (name) updated.name = *name;
  if (company) updated.company = *company;
  updated.updated_at = format_timestamp(clock_.now());
  db_.write([&](storage::Connection& c) {
    storage::developers::update_profile(c, updated.id, updated.name, updated.company, updated.updated_at);
  });
  return updated;
}

Result<Developer> AccountService::create_developer(const NewDeveloper& request) {
  if (!is_plausible_email(request.email)) return Error::invalid_argument("'" + request.email + "' is not an email address.");
  if (request.password && (request.password->size() < kMinPassword || request.password->size() > kMaxPassword)) {
    return Error::invalid_argument("The password must be 10 to 1024 characters.");
  }
  if (utf8_length(request.name).value_or(101) > 100) return Error::invalid_argument("The name must be at most 100 characters.");
  return insert_developer(request, std::nullopt);
}

Result<Developer> AccountService::set_plan(const std::string& email, const std::string& plan) {
  if (!plans_.find(plan)) return Error::invalid_argument("Unknown plan '" + plan + "'.");
  const std::string now = format_timestamp(clock_.now());
  auto row = db_.write([&](storage::Connection& c) {
    auto found = storage::developers::find_by_email_key(c, email_key(email));
    if (found) storage::developers::set_plan(c, found->id, plan, now);
    return found;
  });
  if (!row) return no_developer(email);
  row->plan = plan;
  row->updated_at = now;
  return from_row(*row);
}

Result<std::string> AccountService::issue_token(const std::string& email) {
  const auto row = db_.read([&](storage::Connection& c) { return storage::developers::find_by_email_key(c, email_key(email)); });
  if (!row) return no_developer(email);
  if (row->disabled_at) return Error{ErrorCode::kForbidden, "Developer '" + email + "' is disabled.", nullptr};
  return tokens_.issue(row->id, row->email, clock_.now());
}

std::vector<Developer> AccountService::list_developers() {
  const auto rows = db_.read([&](storage::Connection& c) { return storage::developers::list(c); });
  std::vector<Developer> developers;
  developers.reserve(rows.size());
  for (const auto& row : rows) developers.push_back(from_row(row));
  return developers;
}

Result<Developer> AccountService::reset_password(const std::string& email, const std::string& password) {
  if (password.size() < kMinPassword || password.size() > kMaxPassword) {
    return Error::invalid_argument("The password must be 10 to 1024 characters.");
  }
  // Hash before taking the write lock: Argon2id is deliberately slow.
  const std::string hash = hash_password(password);
  const std::string now = format_timestamp(clock_.now());
  auto row = db_.write([&](storage::Connection& c) {
    auto found = storage::developers::find_by_email_key(c, email_key(email));
    if (found) {
      storage::developers::set_password_hash(c, found->id, hash, now);
      storage::refresh_tokens::revoke_developer(c, found->id, now);
    }
    return found;
  });
  if (!row) return no_developer(email);
  row->updated_at = now;
  return from_row(*row);
}

Result<Developer> AccountService::set_disabled(const std::string& email, bool disabled) {
  const std::string now = format_timestamp(clock_.now());
  auto row = db_.write([&](storage::Connection& c) {
    auto found = storage::developers::find_by_email_key(c, email_key(email));
    if (!found || found->disabled_at.has_value() == disabled) return found;  // already so: unchanged
    found->disabled_at = disabled ? std::optional(now) : std::nullopt;
    found->updated_at = now;
    storage::developers::set_disabled_at(c, found->id, found->disabled_at, now);
    if (disabled) storage::refresh_tokens::revoke_developer(c, found->id, now);
    return found;
  });
  if (!row) return no_developer(email);
  return from_row(*row);
}

}  // namespace core
