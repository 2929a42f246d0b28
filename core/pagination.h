// Cursor pagination (SPEC §1): `limit` 1–200 (default 50) and an opaque cursor naming the last
// item of the previous page. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace core {

struct PageRequest {
  int limit = 50;
  std::optional<std::string> after;  // the last id of the previous page
};

// From the raw query values (nullopt = absent); 400 for a non-numeric or non-positive limit or
// a cursor this server did not make. A limit over 200 is capped.
Result<PageRequest> parse_page(const std::optional<std::string>& limit, const std::optional<std::string>& cursor);

std::string encode_cursor(const std::string& last_id);

template <typename T>
struct Page {
  std::vector<T> items;
  std::optional<std::string> next_cursor;  // nullopt at the end
};

// Trims a fetch of limit + 1 rows to a page; `id_of` gives an item's id for the cursor.
template <typename T, typename IdOf>
Page<T> make_page(std::vector<T> rows, int limit, IdOf id_of) {
  Page<T> page;
  if (static_cast<int>(rows.size()) > limit) {
    rows.resize(static_cast<std::size_t>(limit));
    page.next_cursor = encode_cursor(id_of(rows.back()));
  }
  page.items = std::move(rows);
  return page;
}

}  // namespace core
