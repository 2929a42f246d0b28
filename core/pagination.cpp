#include "core/pagination.h"

#include "core/jwt.h"

namespace core {

namespace {

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 200;
constexpr char kCursorPrefix[] = "c1:";

}  // namespace

std::string encode_cursor(const std::string& last_id) { return base64url_encode(kCursorPrefix + last_id); }

Result<PageRequest> parse_page(const std::optional<std::string>& limit, const std::optional<std::string>& cursor) {
  PageRequest page;
  if (limit) {
    if (limit->empty() || limit->size() > 9 || limit->find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(*limit) <= 0) {
      return Error::invalid_argument("limit must be a positive integer.", {{"fields", {{"limit", "must be a positive integer"}}}});
    }
    page.limit = std::min(std::stoi(*limit), kMaxLimit);
  } else {
    page.limit = kDefaultLimit;
  }
  if (cursor) {
    const auto decoded = base64url_decode(*cursor);
    if (!decoded || !decoded->starts_with(kCursorPrefix) || decoded->size() <= sizeof kCursorPrefix - 1 ||
        decoded->size() > 200) {
      return Error::invalid_argument("cursor is not valid.", {{"fields", {{"cursor", "is not a cursor from this API"}}}});
    }
    page.after = decoded->substr(sizeof kCursorPrefix - 1);
  }
  return page;
}

}  // namespace core
