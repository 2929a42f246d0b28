// Reads fields from a JSON request body and collects every problem at once, so a 400 names
// all bad fields (`details.fields`). Not thread-safe; one per request.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace core {

class FieldReader {
 public:
  explicit FieldReader(const nlohmann::json& body) : body_(body) {}

  // A string of min..max characters (Unicode code points); records a problem otherwise.
  std::optional<std::string> required_string(std::string_view name, std::size_t min, std::size_t max);
  // Absent (or, when allow_null, null) → nullopt without a problem.
  std::optional<std::string> optional_string(std::string_view name, std::size_t min, std::size_t max);
  std::optional<long long> optional_integer(std::string_view name, long long min, long long max);
  bool has(std::string_view name) const { return body_.contains(std::string(name)); }

  // Records a problem found by the caller.
  void reject(std::string_view name, std::string problem);

  bool ok() const { return problems_.empty(); }
  bool has_problem(std::string_view name) const { return problems_.contains(std::string(name)); }
  // 400 INVALID_ARGUMENT with details.fields = { name: problem, ... }.
  Error error() const;

 private:
  std::optional<std::string> read_string(std::string_view name, std::size_t min, std::size_t max);

  const nlohmann::json& body_;
  nlohmann::json problems_ = nlohmann::json::object();
};

// Number of Unicode code points in valid UTF-8 text; nullopt if it is not valid UTF-8.
std::optional<std::size_t> utf8_length(std::string_view text);

// A plausible email address: local@domain with a dot in the domain, ≤ 254 characters, no
// spaces or control characters.
bool is_plausible_email(std::string_view email);

}  // namespace core
