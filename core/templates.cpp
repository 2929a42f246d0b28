#include "core/templates.h"

#include <nlohmann/json.hpp>

namespace core {

namespace {

bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string percent(std::string_view text, bool plus_for_space) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (unreserved(c)) {
      out += static_cast<char>(c);
    } else if (c == ' ' && plus_for_space) {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string escaped(const std::string& value, Escape escape) {
  switch (escape) {
    case Escape::kNone: return value;
    case Escape::kUrl: return url_encode(value);
    case Escape::kForm: return form_encode(value);
    case Escape::kJsonString: {
      const std::string quoted = nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return quoted.substr(1, quoted.size() - 2);
    }
    case Escape::kHeader: {
      std::string out;
      for (char c : value) {
        if (c != '\r' && c != '\n' && c != '\0') out += c;
      }
      return out;
    }
  }
  return value;
}

}  // namespace

std::string url_encode(std::string_view text) { return percent(text, false); }
std::string form_encode(std::string_view text) { return percent(text, true); }

std::string expand_template(std::string_view text, const std::map<std::string, std::string>& values, Escape escape) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '{') {
      const auto close = text.find('}', i + 1);
      if (close != std::string_view::npos) {
        const auto it = values.find(std::string(text.substr(i + 1, close - i - 1)));
        if (it != values.end()) {
          out += escaped(it->second, escape);
          i = close + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

}  // namespace core
