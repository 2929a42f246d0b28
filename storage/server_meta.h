// Facts about the database itself (server_meta): SQL only. Stateless; callers bring the
// connection.
#pragma once

#include <string>

#include "storage/sql.h"

namespace storage::server_meta {

// Stores `value` under `key` unless a value is there already; returns the stored one.
std::string claim(Connection& c, const std::string& key, const std::string& value);

}  // namespace storage::server_meta
