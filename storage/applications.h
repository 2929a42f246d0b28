// Applications and their credentials: SQL only. Console queries are scoped to a developer;
// the app-auth lookups (by API key hash, by id) are not, because the key itself names the
// tenant. Functions run on the caller's connection; not thread-safe by themselves.
#pragma once

#include "storage/sql.h"


#include <optional>
#include <string>
#include <vector>

namespace storage {

struct ApplicationRow {
  std::string id;
  std::string developer_id;
  std::string project_id;
  std::string name;
  std::string environment;  // live | test
  std::string status;       // active | disabled
  std::string client_id;
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> rotated_at;
  // Previews of the current credentials (read with the row).
  std::string client_secret_preview;
  std::string api_key_preview;
  std::optional<std::string> policy{};  // JSON (SPEC §15); nullopt = the defaults
};

struct CredentialRow {
  std::string app_id;
  std::string type;  // api | secret | webhook_secret
  std::optional<std::string> lookup_hash;
  std::optional<std::string> verifier;
  std::optional<std::string> ciphertext;
  std::string preview;
  std::string created_at;
  std::optional<std::string> expires_at;  // nullopt = current
};

namespace applications {

void insert(Connection& db, const ApplicationRow& row);
std::optional<ApplicationRow> find(Connection& db, const std::string& developer_id, const std::string& id);
std::optional<ApplicationRow> find_any(Connection& db, const std::string& id);
std::vector<ApplicationRow> list(Connection& db, const std::string& developer_id,
                                 const std::optional<std::string>& project_id,
                                 const std::optional<std::string>& before_id, int limit);
int count(Connection& db, const std::string& developer_id);
void update(Connection& db, const ApplicationRow& row);
void remove(Connection& db, const std::string& developer_id, const std::string& id);
void set_policy(Connection& db, const std::string& id, const std::string& policy_json, const std::string& updated_at);

}  // namespace applications

namespace credentials {

void insert(Connection& db, const CredentialRow& row);
// The application whose live API key has this hash (current, or rotated out and still in
// grace), and when that key stops working (nullopt: it is the current key).
struct ApiKeyMatch {
  std::string app_id;
  std::optional<std::string> expires_at;
};
std::optional<ApiKeyMatch> app_for_api_key(Connection& db, const std::string& lookup_hash, const std::string& now);
// Live credentials of one type: the current one first, then those still in grace.
std::vector<CredentialRow> live(Connection& db, const std::string& app_id, const std::string& type,
                                const std::string& now);
// Ends the current credential of `type`: kept until `expires_at`, or deleted when nullopt.
void retire_current(Connection& db, const std::string& app_id, const std::string& type,
                    const std::optional<std::string>& expires_at);
void delete_expired(Connection& db, const std::string& app_id, const std::string& now);

}  // namespace credentials

}  // namespace storage
