// Core values as the JSON objects of the SPEC. Pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "core/accounts.h"

namespace app::http {

nlohmann::json developer_json(const core::Developer& developer);
nlohmann::json session_json(const core::Session& session);

}  // namespace app::http
