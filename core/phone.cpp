#include "core/phone.h"

namespace core {

std::string phone_problem(std::string_view input) {
  std::string digits;
  bool plus = false;
  for (std::size_t i = 0; i < input.size(); ++i) {
    const char c = input[i];
    if (c == '+' && digits.empty() && !plus) {
      plus = true;
    } else if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
      return "must contain only digits, spaces, dashes, dots and parentheses after a leading +";
    }
  }
  if (!plus) return "must start with + and the country code (E.164)";
  if (digits.size() < 8) return "is too short (E.164 numbers have 8 to 15 digits)";
  if (digits.size() > 15) return "is too long (E.164 numbers have 8 to 15 digits)";
  if (digits.front() == '0') return "has a country code starting with 0";
  return {};
}

std::optional<std::string> normalize_phone(std::string_view input) {
  if (!phone_problem(input).empty()) return std::nullopt;
  std::string e164 = "+";
  for (char c : input) {
    if (c >= '0' && c <= '9') e164 += c;
  }
  return e164;
}

std::size_t country_code_length(std::string_view digits) {
  if (digits.empty()) return 0;
  const char a = digits[0];
  const char b = digits.size() > 1 ? digits[1] : '0';
  switch (a) {
    case '1':
    case '7':
      return 1;
    case '2': return (b == '0' || b == '7') ? 2 : 3;
    case '3': return (b == '5' || b == '7' || b == '8') ? 3 : 2;
    case '4': return b == '2' ? 3 : 2;
    case '5': return (b == '0' || b == '9') ? 3 : 2;
    case '6': return (b >= '7') ? 3 : 2;
    case '8': return (b == '1' || b == '2' || b == '4' || b == '6') ? 2 : 3;
    case '9': return (b == '6' || b == '7' || b == '9') ? 3 : 2;
    default: return 3;
  }
}

std::string display_phone(const std::string& e164) {
  const std::string_view digits = std::string_view(e164).substr(1);
  const std::size_t cc = country_code_length(digits);
  std::string out;
  out.reserve(e164.size() + 6);
  out.push_back('+');
  out.append(digits.substr(0, cc));
  const std::string_view national = digits.substr(cc);
  for (std::size_t i = 0; i < national.size(); i += 3) {
    out.push_back(' ');
    out.append(national.substr(i, 3));
  }
  return out;
}

}  // namespace core
