#include "core/sms_text.h"

#include <array>
#include <vector>

namespace core {

namespace {

// GSM 03.38 basic character set, by Unicode code point (LF and CR included; ESC is not text).
constexpr std::array<char32_t, 127> kBasic = {
    U'@', U'£', U'$', U'¥', U'è', U'é', U'ù', U'ì', U'ò', U'Ç', U'\n', U'Ø', U'ø', U'\r', U'Å', U'å',
    U'Δ', U'_', U'Φ', U'Γ', U'Λ', U'Ω', U'Π', U'Ψ', U'Σ', U'Θ', U'Ξ', U'Æ', U'æ', U'ß', U'É',
    U' ', U'!', U'"', U'#', U'¤', U'%', U'&', U'\'', U'(', U')', U'*', U'+', U',', U'-', U'.', U'/',
    U'0', U'1', U'2', U'3', U'4', U'5', U'6', U'7', U'8', U'9', U':', U';', U'<', U'=', U'>', U'?',
    U'¡', U'A', U'B', U'C', U'D', U'E', U'F', U'G', U'H', U'I', U'J', U'K', U'L', U'M', U'N', U'O',
    U'P', U'Q', U'R', U'S', U'T', U'U', U'V', U'W', U'X', U'Y', U'Z', U'Ä', U'Ö', U'Ñ', U'Ü', U'§',
    U'¿', U'a', U'b', U'c', U'd', U'e', U'f', U'g', U'h', U'i', U'j', U'k', U'l', U'm', U'n', U'o',
    U'p', U'q', U'r', U's', U't', U'u', U'v', U'w', U'x', U'y', U'z', U'ä', U'ö', U'ñ', U'ü', U'à'};

// The extension table: each is sent as ESC plus one septet.
constexpr std::array<char32_t, 10> kExtension = {U'\f', U'^', U'{', U'}', U'\\', U'[', U'~', U']', U'|', U'€'};

bool in(const auto& table, char32_t c) {
  for (char32_t t : table) {
    if (t == c) return true;
  }
  return false;
}

// UTF-8 → code points; a malformed byte becomes U+FFFD.
std::vector<char32_t> code_points(std::string_view text) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const int length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + static_cast<std::size_t>(length) > text.size()) {
      out.push_back(U'\uFFFD');
      ++i;
      continue;
    }
    char32_t c = length == 1 ? lead : lead & (0x7F >> length);
    for (int k = 1; k < length; ++k) c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    out.push_back(c);
    i += static_cast<std::size_t>(length);
  }
  return out;
}

int segments_for(int characters, int single, int part) {
  if (characters <= single) return characters == 0 ? 0 : 1;
  return (characters + part - 1) / part;
}

}  // namespace

SmsEncoding sms_encoding(std::string_view text) {
  const std::vector<char32_t> points = code_points(text);
  int septets = 0;
  bool gsm = true;
  for (char32_t c : points) {
    if (in(kBasic, c)) {
      septets += 1;
    } else if (in(kExtension, c)) {
      septets += 2;
    } else {
      gsm = false;
      break;
    }
  }
  if (gsm) return {"GSM-7", septets, segments_for(septets, 160, 153)};
  int units = 0;
  for (char32_t c : points) units += c > 0xFFFF ? 2 : 1;
  return {"UCS-2", units, segments_for(units, 70, 67)};
}

}  // namespace core
