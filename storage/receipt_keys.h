// The receipt key ring (SPEC §16): SQL only. Stateless; callers bring the connection.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "storage/sql.h"

namespace storage::receipt_keys {

struct KeyRow {
  std::string kid;
  std::string x;            // base64url public point
  std::string y;
  std::string private_key;  // sealed PKCS#8 DER
  std::string created_at;
  std::string signs_from;
  std::optional<std::string> retired_at;
};

// Every key, retired ones too (a ring holds a handful), newest first.
std::vector<KeyRow> all(Connection& c);
void insert(Connection& c, const KeyRow& row);
void set_signs_from(Connection& c, const std::string& kid, const std::string& signs_from);
void retire(Connection& c, const std::string& kid, const std::string& at);

}  // namespace storage::receipt_keys
