// What a route handler receives and returns. Plain values; not synchronised.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace app::http {

struct HttpRequest {
  const httplib::Request& raw;
  std::vector<std::string> path_params;  // the route's {params}, in order, percent-decoded
  std::string request_id;
};

struct Reply {
  int status = 200;
  nlohmann::json body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> text;  // set: sent as is with content_type instead of the JSON body
  std::string content_type;

  // `{ "data": data }` with the given status.
  static Reply data(nlohmann::json data, int status = 200);
  // `{ "data": [items], "nextCursor": cursor-or-null }`
  static Reply list(nlohmann::json items, const std::optional<std::string>& next_cursor);
  // `{ "data": { "id": id, "deleted": true } }`, the answer of every DELETE.
  static Reply deleted(const std::string& id);
  // A non-JSON answer (the metrics exposition).
  static Reply plain(std::string text, std::string content_type, int status = 200);
};

using Handler = std::function<core::Result<Reply>(const HttpRequest&)>;

}  // namespace app::http
