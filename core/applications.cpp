#include "core/applications.h"

#include <sodium.h>


#include "core/ids.h"
#include "core/projects.h"
#include "core/validation.h"
#include "storage/applications.h"
#include "storage/locks.h"
#include "storage/projects.h"

namespace core {

namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
constexpr long long kMaxGraceSeconds = 86400;

Error app_not_found() { return Error::not_found("Application not found."); }
Error unauthenticated() {
  return Error{ErrorCode::kUnauthenticated, "Application credentials are missing or invalid.", nullptr};
}

std::string keyed_hash(std::string_view input, const ServerKey::Bytes& key) {
  std::string out(kHashBytes, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(input.data()), input.size(), key.data(), key.size());
  return out;
}

Application from_row(const storage::ApplicationRow& row, const OtpPolicy& defaults) {
  Application app{row.id,         row.developer_id, row.project_id,          row.name,
                  row.environment, row.status,       row.client_id,           row.client_secret_preview,
                  row.api_key_preview, row.created_at, row.updated_at,       row.rotated_at, nullptr};
  if (row.policy) app.policy = std::make_shared<const OtpPolicy>(stored_policy(*row.policy, defaults));
  return app;
}

// The credential types of SPEC §2 and the prefix of their values.
std::string credential_prefix(const std::string& type, const std::string& environment) {
  if (type == "webhook_secret") return "whsec_";
  if (type == "client") return "ph_" + environment + "_client_";
  return "ph_" + environment + (type == "secret" ? "_secret_" : "_api_");
}

// ph_live_api_<48 hex> or ph_test_api_<48 hex>: anything else is refused before any lookup.
bool well_formed_api_key(std::string_view value) {
  std::string_view hex;
  if (value.starts_with("ph_live_api_")) {
    hex = value.substr(12);
  } else if (value.starts_with("ph_test_api_")) {
    hex = value.substr(12);
  } else {
    return false;
  }
  return hex.size() == 48 && hex.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

std::string credential_preview(const std::string& value) {
  const auto underscore = value.rfind('_');
  const std::string prefix = underscore == std::string::npos ? "" : value.substr(0, underscore + 1);
  return prefix + "\xe2\x80\xa6" + value.substr(value.size() >= 4 ? value.size() - 4 : 0);
}

struct ApplicationService::Credential {
  std::string value;
  storage::CredentialRow row;
};

ApplicationService::ApplicationService(storage::Store& db, const Clock& clock, Random& random, const ServerKey& key,
                                       const PlanCatalog& plans, OtpPolicy defaults)
    : db_(db),
      clock_(clock),
      random_(random),
      plans_(plans),
      defaults_(std::move(defaults)),
      api_key_key_(key.derive("apikey")),
      secret_key_(key.derive("clsecret")),
      webhook_key_(key.derive("whsecret")) {
  // Another node changed an application (PostgreSQL): forget what this one cached. The weak
  // pointer: the store's listener may outlive this service by a moment.
  db_.on_announced("applications", [cache = std::weak_ptr(auth_cache_)] {
    if (auto alive = cache.lock()) alive->invalidate();
  });
}

std::string ApplicationService::api_key_hash(std::string_view api_key) const { return keyed_hash(api_key, api_key_key_); }

bool ApplicationService::secret_matches(const std::string& verifier, std::string_view secret) const {
  if (verifier.size() != kSaltBytes + kHashBytes) return false;
  const std::string expected = keyed_hash(verifier.substr(0, kSaltBytes) + std::string(secret), secret_key_);
  return sodium_memcmp(expected.data(), verifier.data() + kSaltBytes, kHashBytes) == 0;
}

std::optional<std::string> ApplicationService::decrypt(const std::string& ciphertext) const {
  return unseal(ciphertext, webhook_key_);
}

ApplicationService::Credential ApplicationService::make_credential(const std::string& type,
                                                                   const std::string& environment,
                                                                   const std::string& now) {
  std::array<std::uint8_t, 24> random_bytes{};
  random_.fill(random_bytes);
  Credential credential;
  credential.value = credential_prefix(type, environment) + hex_encode(random_bytes);
  storage::CredentialRow& row = credential.row;
  row.type = type;
  row.preview = credential_preview(credential.value);
  row.created_at = now;
  if (type == "api") {
    row.lookup_hash = api_key_hash(credential.value);
  } else if (type == "secret") {
    std::string salt(kSaltBytes, '\0');
    random_.fill(std::span(reinterpret_cast<std::uint8_t*>(salt.data()), salt.size()));
    row.verifier = salt + keyed_hash(salt + credential.value, secret_key_);
  } else {
    row.ciphertext = seal(credential.value, webhook_key_, random_);
  }
  return credential;
}

Result<Page<Application>> ApplicationService::list(const Developer& owner, const std::optional<std::string>& project_id,
                                                   const PageRequest& page) {
  auto rows = db_.read([&](storage::Connection& c) -> std::optional<std::vector<storage::ApplicationRow>> {
    if (project_id && !storage::projects::find(c, owner.id, *project_id)) return std::nullopt;
    return storage::applications::list(c, owner.id, project_id, page.after, page.limit + 1);
  });
  if (!rows) return Error::not_found("Project not found.");
  std::vector<Application> applications;
  for (const auto& row : *rows) applications.push_back(from_row(row, defaults_));
  return make_page(std::move(applications), page.limit, [](const Application& a) { return a.id; });
}

Result<CreatedApplication> ApplicationService::create(const Developer& owner, const nlohmann::json& body) {
  FieldReader fields(body);
  const auto name = fields.required_string("name", 1, 100);
  const auto project_id = fields.required_string("projectId", 1, 100);
  const auto environment = fields.required_string("environment", 1, 10);
  if (environment && *environment != "live" && *environment != "test") {
    fields.reject("environment", "must be \"live\" or \"test\"");
  }
  if (!fields.ok()) return fields.error();

  const std::string now = format_timestamp(clock_.now());
  storage::ApplicationRow row;
  row.id = new_id(clock_, random_);
  row.developer_id = owner.id;
  row.project_id = *project_id;
  row.name = *name;
  row.environment = *environment;
  row.status = "active";
  std::array<std::uint8_t, 24> client_bytes{};
  random_.fill(client_bytes);
  row.client_id = credential_prefix("client", *environment) + hex_encode(client_bytes);
  row.created_at = now;
  row.updated_at = now;
  Credential secret = make_credential("secret", *environment, now);
  Credential api = make_credential("api", *environment, now);
  Credential webhook = make_credential("webhook_secret", *environment, now);
  row.client_secret_preview = secret.row.preview;
  row.api_key_preview = api.row.preview;

  const Plan* plan = plans_.find(owner.plan);
  enum class Outcome { kCreated, kNoProject, kLimit };
  const Outcome outcome = db_.write([&](storage::Connection& c) {
    storage::locks::exclusive(c, storage::locks::developer(owner.id));
    if (!storage::projects::find(c, owner.id, row.project_id)) return Outcome::kNoProject;
    if (plan && plan->max_applications && storage::applications::count(c, owner.id) >= *plan->max_applications) {
      return Outcome::kLimit;
    }
    storage::applications::insert(c, row);
    for (Credential* credential : {&secret, &api, &webhook}) {
      credential->row.app_id = row.id;
      storage::credentials::insert(c, credential->row);
    }
    return Outcome::kCreated;
  });
  if (outcome == Outcome::kNoProject) return Error::not_found("Project not found.");
  if (outcome == Outcome::kLimit) return plan_limit_exceeded("applications", *plan->max_applications);
  return CreatedApplication{from_row(row, defaults_), secret.value, api.value, webhook.value};
}

Result<Application> ApplicationService::get(const Developer& owner, const std::string& id) {
  const auto row = db_.read([&](storage::Connection& c) { return storage::applications::find(c, owner.id, id); });
  if (!row) return app_not_found();
  return from_row(*row, defaults_);
}

Result<Application> ApplicationService::update(const Developer& owner, const std::string& id,
                                               const nlohmann::json& body) {
  FieldReader fields(body);
  const auto name = fields.optional_string("name", 1, 100);
  const auto status = fields.optional_string("status", 1, 10);
  const auto project_id = fields.optional_string("projectId", 1, 100);
  if (status && *status != "active" && *status != "disabled") fields.reject("status", "must be \"active\" or \"disabled\"");
  if (fields.has("environment")) fields.reject("environment", "cannot be changed; create a new application");
  if (!fields.ok()) return fields.error();

  const std::string now = format_timestamp(clock_.now());
  enum class Outcome { kUpdated, kNoApp, kNoProject };
  storage::ApplicationRow updated;
  const Outcome outcome = db_.write([&](storage::Connection& c) {
    storage::locks::exclusive(c, storage::locks::developer(owner.id));
    auto found = storage::applications::find(c, owner.id, id);
    if (!found) return Outcome::kNoApp;
    if (project_id && !storage::projects::find(c, owner.id, *project_id)) return Outcome::kNoProject;
    if (name) found->name = *name;
    if (status) found->status = *status;
    if (project_id) found->project_id = *project_id;
    found->updated_at = now;
    storage::applications::update(c, *found);
    storage::announce(c, "applications");
    updated = *found;
    return Outcome::kUpdated;
  });
  if (outcome == Outcome::kNoApp) return app_not_found();
  if (outcome == Outcome::kNoProject) return Error::not_found("Project not found.");
  auth_cache_->invalidate();
  return from_row(updated, defaults_);
}

Result<PolicyView> ApplicationService::policy(const Developer& owner, const std::string& id) {
  const auto row = db_.read([&](storage::Connection& c) { return storage::applications::find(c, owner.id, id); });
  if (!row) return app_not_found();
  const Application app = from_row(*row, defaults_);
  return PolicyView{app.policy ? *app.policy : defaults_, app.name};
}

Result<PolicyView> ApplicationService::put_policy(const Developer& owner, const std::string& id,
                                                  const nlohmann::json& body) {
  // The app's existence first: another developer's id is a 404 whatever the body says.
  const auto existing = db_.read([&](storage::Connection& c) { return storage::applications::find(c, owner.id, id); });
  if (!existing) return app_not_found();
  auto policy = read_policy(body, defaults_);
  if (!policy.ok()) return policy.error();
  const std::string stored = policy_fields_json(policy.value()).dump();
  const std::string now = format_timestamp(clock_.now());
  std::optional<std::string> name = db_.write([&](storage::Connection& c) -> std::optional<std::string> {
    storage::locks::exclusive(c, storage::locks::developer(owner.id));
    const auto found = storage::applications::find(c, owner.id, id);
    if (!found) return std::nullopt;
    storage::applications::set_policy(c, id, stored, now);
    storage::announce(c, "applications");
    return found->name;
  });
  if (!name) return app_not_found();
  auth_cache_->invalidate();
  return PolicyView{policy.value(), *name};
}

Status ApplicationService::remove(const Developer& owner, const std::string& id) {
  const bool removed = db_.write([&](storage::Connection& c) {
    storage::locks::exclusive(c, storage::locks::developer(owner.id));
    if (!storage::applications::find(c, owner.id, id)) return false;
    storage::applications::remove(c, owner.id, id);  // credentials (and webhooks) cascade
    storage::announce(c, "applications");
    return true;
  });
  if (!removed) return app_not_found();
  auth_cache_->invalidate();
  return Ok{};
}

Result<Rotation> ApplicationService::rotate(const Developer& owner, const std::string& id, const std::string& type,
                                            const nlohmann::json& body) {
  if (type != "secret" && type != "api" && type != "webhook_secret") {
    return Error::not_found("Unknown credential type; use secret, api or webhook_secret.");
  }
  FieldReader fields(body);
  const auto grace = fields.optional_integer("graceSeconds", 0, kMaxGraceSeconds);
  if (!fields.ok()) return fields.error();

  const TimePoint now_time = clock_.now();
  const std::string now = format_timestamp(now_time);
  const std::optional<std::string> old_expires =
      grace && *grace > 0 ? std::optional(format_timestamp(now_time + std::chrono::seconds(*grace))) : std::nullopt;
  std::optional<Credential> credential;
  const bool rotated = db_.write([&](storage::Connection& c) {
    storage::locks::exclusive(c, storage::locks::developer(owner.id));
    auto found = storage::applications::find(c, owner.id, id);
    if (!found) return false;
    credential = make_credential(type, found->environment, now);
    credential->row.app_id = found->id;
    storage::credentials::delete_expired(c, found->id, now);
    storage::credentials::retire_current(c, found->id, type, old_expires);
    storage::credentials::insert(c, credential->row);
    found->rotated_at = now;
    found->updated_at = now;
    storage::applications::update(c, *found);
    storage::announce(c, "applications");
    return true;
  });
  if (!rotated) return app_not_found();
  auth_cache_->invalidate();
  return Rotation{type, credential->value, now};
}

Result<std::string> ApplicationService::webhook_secret(const Developer& owner, const std::string& id) {
  const std::string now = format_timestamp(clock_.now());
  const auto secrets = db_.read([&](storage::Connection& c) -> std::optional<std::vector<storage::CredentialRow>> {
    if (!storage::applications::find(c, owner.id, id)) return std::nullopt;
    return storage::credentials::live(c, id, "webhook_secret", now);
  });
  if (!secrets) return app_not_found();
  if (secrets->empty() || !secrets->front().ciphertext) return Error::internal();
  auto plain = decrypt(*secrets->front().ciphertext);
  if (!plain) return Error::internal();
  return *plain;
}

std::vector<std::string> ApplicationService::webhook_secrets(const std::string& app_id) {
  const std::string now = format_timestamp(clock_.now());
  const auto rows = db_.read([&](storage::Connection& c) { return storage::credentials::live(c, app_id, "webhook_secret", now); });
  std::vector<std::string> secrets;
  for (const auto& row : rows) {
    if (row.ciphertext) {
      if (auto plain = decrypt(*row.ciphertext)) secrets.push_back(std::move(*plain));
    }
  }
  return secrets;
}

Result<std::shared_ptr<const ApplicationService::AuthRecord>> ApplicationService::load_for_auth(std::string_view api_key) {
  if (!well_formed_api_key(api_key)) return unauthenticated();
  const std::string hash = api_key_hash(api_key);
  const TimePoint now_time = clock_.now();
  const std::string now = format_timestamp(now_time);
  if (auto cached = auth_cache_->get(hash, now_time)) {
    if ((*cached)->key_expires_at && *(*cached)->key_expires_at <= now) return unauthenticated();  // its grace is over
    return std::move(*cached);
  }
  const auto generation = auth_cache_->generation();
  auto record = db_.read([&](storage::Connection& c) -> std::shared_ptr<const AuthRecord> {
    const auto key = storage::credentials::app_for_api_key(c, hash, now);
    if (!key) return nullptr;
    const auto row = storage::applications::find_any(c, key->app_id);
    if (!row) return nullptr;
    auto found = std::make_shared<AuthRecord>(AuthRecord{from_row(*row, defaults_), key->expires_at, {}});
    for (auto& secret : storage::credentials::live(c, row->id, "secret", now)) {
      if (secret.verifier) found->secrets.push_back({std::move(*secret.verifier), std::move(secret.expires_at)});
    }
    return found;
  });
  if (!record) return unauthenticated();
  auth_cache_->put(hash, record, now_time, generation);
  return record;
}

Result<Application> ApplicationService::authenticate(std::string_view client_id, std::string_view client_secret,
                                                     std::string_view api_key) {
  auto record = load_for_auth(api_key);
  if (!record.ok()) {
    // Spend the secret check's time anyway, so an unknown key cannot be told from a wrong secret.
    (void)secret_matches(std::string(kSaltBytes + kHashBytes, '\0'), client_secret);
    return record.error();
  }
  const AuthRecord& found = *record.value();
  const bool client_matches = constant_time_equal(client_id, found.app.client_id);
  const std::string now = format_timestamp(clock_.now());
  bool secret_ok = false;
  for (const auto& secret : found.secrets) {
    const bool live = !secret.expires_at || *secret.expires_at > now;
    if (secret_matches(secret.verifier, client_secret) && live) secret_ok = true;
  }
  if (!client_matches || !secret_ok) return unauthenticated();
  if (found.app.status != "active") return Error{ErrorCode::kForbidden, "This application is disabled.", nullptr};
  return found.app;
}

Result<Application> ApplicationService::authenticate_api_key(std::string_view api_key) {
  auto record = load_for_auth(api_key);
  if (!record.ok()) return record.error();
  if (record.value()->app.status != "active") return Error{ErrorCode::kForbidden, "This application is disabled.", nullptr};
  return record.value()->app;
}


}  // namespace core
