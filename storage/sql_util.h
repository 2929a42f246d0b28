// Small helpers shared by the repositories: NULL-able columns and parameters. Internal to
// storage/; stateless.
#pragma once

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include <optional>
#include <string>

namespace storage {

inline std::optional<std::string> text_or_null(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return column.getString();
}

inline std::optional<std::string> blob_or_null(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return std::string(static_cast<const char*>(column.getBlob()), static_cast<std::size_t>(column.getBytes()));
}

inline void bind_text(SQLite::Statement& statement, int index, const std::optional<std::string>& value) {
  if (value) {
    statement.bind(index, *value);
  } else {
    statement.bind(index);
  }
}

inline void bind_blob(SQLite::Statement& statement, int index, const std::optional<std::string>& value) {
  if (value) {
    statement.bind(index, value->data(), static_cast<int>(value->size()));
  } else {
    statement.bind(index);
  }
}

}  // namespace storage
