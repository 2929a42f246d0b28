// How an SMS text is encoded and billed (SPEC §15's template preview): GSM 03.38's 7-bit
// alphabet when every character is in it (extension characters take two septets), else UCS-2;
// 160/153 septets or 70/67 UTF-16 code units per segment. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace core {

struct SmsEncoding {
  std::string encoding;  // "GSM-7" | "UCS-2"
  int characters = 0;    // GSM-7 septets, or UTF-16 code units
  int segments = 0;
};

// `text` is UTF-8 (invalid bytes count as UCS-2 replacement characters).
SmsEncoding sms_encoding(std::string_view text);

}  // namespace core
