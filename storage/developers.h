// Developer accounts and refresh tokens: SQL only, no policy. Functions take the connection
// of the caller's transaction (Database::read / Database::write); not thread-safe by themselves.
#pragma once

#include "storage/sql.h"


#include <optional>
#include <string>
#include <vector>

namespace storage {

struct DeveloperRow {
  std::string id;
  std::string email;
  std::string email_key;
  std::string name;
  std::string company;
  std::string plan;
  std::string virtual_phone;
  std::optional<std::string> password_hash;
  std::optional<std::string> firebase_uid;
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> disabled_at;  // set while an operator has disabled the account
};

namespace developers {

// Returns false when the email, virtual number or Firebase uid is already taken.
bool insert(Connection& db, const DeveloperRow& row);
std::optional<DeveloperRow> find_by_id(Connection& db, const std::string& id);
std::optional<DeveloperRow> find_by_email_key(Connection& db, const std::string& email_key);
std::optional<DeveloperRow> find_by_firebase_uid(Connection& db, const std::string& uid);
// Every developer, oldest first.
std::vector<DeveloperRow> list(Connection& db);
bool virtual_phone_taken(Connection& db, const std::string& phone);
void update_profile(Connection& db, const std::string& id, const std::string& name, const std::string& company,
                    const std::string& updated_at);
void set_plan(Connection& db, const std::string& id, const std::string& plan, const std::string& updated_at);
void set_password_hash(Connection& db, const std::string& id, const std::string& password_hash,
                       const std::string& updated_at);
// nullopt enables the account again.
void set_disabled_at(Connection& db, const std::string& id, const std::optional<std::string>& disabled_at,
                     const std::string& updated_at);
void link_firebase(Connection& db, const std::string& id, const std::string& uid, const std::string& updated_at);
void remove(Connection& db, const std::string& id);

}  // namespace developers

struct RefreshTokenRow {
  std::string token_hash;  // raw bytes
  std::string developer_id;
  std::string family_id;
  std::string auth_time;
  std::string created_at;
  std::string expires_at;
  std::optional<std::string> used_at;
};

namespace refresh_tokens {

void insert(Connection& db, const RefreshTokenRow& row);
std::optional<RefreshTokenRow> find(Connection& db, const std::string& token_hash);
// Marks an unused token used; false if it was already used (a concurrent rotation won).
bool mark_used(Connection& db, const std::string& token_hash, const std::string& used_at);
void revoke_family(Connection& db, const std::string& family_id, const std::string& used_at);
// Marks every unused refresh token of the developer used (all sessions end); returns how many.
int revoke_developer(Connection& db, const std::string& developer_id, const std::string& used_at);

}  // namespace refresh_tokens

}  // namespace storage
