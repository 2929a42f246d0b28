#include "core/validation.h"

namespace core {

std::optional<std::size_t> utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t width = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (width == 0 || i + width > text.size()) return std::nullopt;
    for (std::size_t k = 1; k < width; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return std::nullopt;
    }
    i += width;
    ++count;
  }
  return count;
}

std::optional<std::string> FieldReader::read_string(std::string_view name, std::size_t min, std::size_t max) {
  const auto& value = body_[std::string(name)];
  if (!value.is_string()) {
    reject(name, "must be a string");
    return std::nullopt;
  }
  const auto& text = value.get_ref<const std::string&>();
  const auto length = utf8_length(text);
  if (!length) {
    reject(name, "must be valid UTF-8");
    return std::nullopt;
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
      reject(name, "must not contain control characters");
      return std::nullopt;
    }
  }
  if (*length < min || *length > max) {
    reject(name, min == max ? "must be exactly " + std::to_string(min) + " characters"
                 : min == 0 ? "must be at most " + std::to_string(max) + " characters"
                            : "must be " + std::to_string(min) + " to " + std::to_string(max) + " characters");
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> FieldReader::required_string(std::string_view name, std::size_t min, std::size_t max) {
  if (!has(name) || body_[std::string(name)].is_null()) {
    reject(name, "is required");
    return std::nullopt;
  }
  return read_string(name, min, max);
}

std::optional<std::string> FieldReader::optional_string(std::string_view name, std::size_t min, std::size_t max) {
  if (!has(name)) return std::nullopt;
  return read_string(name, min, max);
}

std::optional<long long> FieldReader::optional_integer(std::string_view name, long long min, long long max) {
  if (!has(name)) return std::nullopt;
  const auto& value = body_[std::string(name)];
  if (!value.is_number_integer()) {
    reject(name, "must be an integer");
    return std::nullopt;
  }
  const long long number = value.get<long long>();
  if (number < min || number > max) {
    reject(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return number;
}

void FieldReader::reject(std::string_view name, std::string problem) {
  const std::string key(name);
  if (!problems_.contains(key)) problems_[key] = std::move(problem);
}

Error FieldReader::error() const {
  std::string message = "Invalid request:";
  bool first = true;
  for (const auto& [field, problem] : problems_.items()) {
    message += (first ? " " : "; ") + field + " " + problem.get<std::string>();
    first = false;
  }
  return Error::invalid_argument(message + ".", {{"fields", problems_}});
}

bool is_plausible_email(std::string_view email) {
  if (email.size() < 3 || email.size() > 254) return false;
  const auto at = email.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= email.size()) return false;
  const auto domain = email.substr(at + 1);
  if (domain.find('.') == std::string_view::npos || domain.front() == '.' || domain.back() == '.') return false;
  for (char c : email) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  return email.substr(0, at).find('@') == std::string_view::npos;
}

}  // namespace core
