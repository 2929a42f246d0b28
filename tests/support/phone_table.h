// The table of phone numbers and what the lookup answers for each (SPEC §14), shared by the API
// suite (both engines) and the end-to-end suite (the static release binary, whose ICU data is
// stubbed out). Expected values are libphonenumber's, metadata 8.12.57 (Debian 12).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace testing {

struct PhoneRow {
  std::string input;
  std::string region;  // ?region=, empty = none
  nlohmann::json e164, phone;
  bool valid, possible;
  nlohmann::json reason, number_region, country_code;
  std::string type;
  nlohmann::json national;
};

inline const std::vector<PhoneRow> kPhoneTable = {
    {"+44 (0) 7911 123456", "", "+447911123456", "+44 7911 123456", true, true, nullptr, "GG", 44, "mobile", "07911 123456"},
    {"+447911123456", "", "+447911123456", "+44 7911 123456", true, true, nullptr, "GG", 44, "mobile", "07911 123456"},
    {"07911 123456", "GB", "+447911123456", "+44 7911 123456", true, true, nullptr, "GG", 44, "mobile", "07911 123456"},
    {"07911 123456", "gb", "+447911123456", "+44 7911 123456", true, true, nullptr, "GG", 44, "mobile", "07911 123456"},
    {"07911 123456", "", nullptr, nullptr, false, false, "INVALID_COUNTRY_CODE", nullptr, nullptr, "unknown", nullptr},
    {"+1 415 555 2671", "", "+14155552671", "+1 415-555-2671", true, true, nullptr, "US", 1, "fixed_line_or_mobile", "(415) 555-2671"},
    {"(415) 555-2671", "US", "+14155552671", "+1 415-555-2671", true, true, nullptr, "US", 1, "fixed_line_or_mobile", "(415) 555-2671"},
    {"+1 (800) 234-5678", "", "+18002345678", "+1 800-234-5678", true, true, nullptr, "US", 1, "toll_free", "(800) 234-5678"},
    {"+49 30 123456", "", "+4930123456", "+49 30 123456", true, true, nullptr, "DE", 49, "fixed_line", "030 123456"},
    {"+49 1512 3456789", "", "+4915123456789", "+49 1512 3456789", true, true, nullptr, "DE", 49, "mobile", "01512 3456789"},
    {"+33 6 12 34 56 78", "", "+33612345678", "+33 6 12 34 56 78", true, true, nullptr, "FR", 33, "mobile", "06 12 34 56 78"},
    {"+91 81234 56789", "", "+918123456789", "+91 81234 56789", true, true, nullptr, "IN", 91, "mobile", "081234 56789"},
    {"+55 11 96123-4567", "", "+5511961234567", "+55 11 96123-4567", true, true, nullptr, "BR", 55, "mobile", "(11) 96123-4567"},
    {"+81 90-1234-5678", "", "+819012345678", "+81 90-1234-5678", true, true, nullptr, "JP", 81, "mobile", "090-1234-5678"},
    {"+237 6 71 23 45 67", "", "+237671234567", "+237 6 71 23 45 67", true, true, nullptr, "CM", 237, "mobile", "6 71 23 45 67"},
    {"+39 06 1234 5678", "", "+390612345678", "+39 06 1234 5678", true, true, nullptr, "IT", 39, "fixed_line", "06 1234 5678"},
    {"+44 121 234 5678", "", "+441212345678", "+44 121 234 5678", true, true, nullptr, "GB", 44, "fixed_line", "0121 234 5678"},
    {"+44 901 234 5678", "", "+449012345678", "+44 901 234 5678", true, true, nullptr, "GB", 44, "premium_rate", "0901 234 5678"},
    {"+44 56 1234 5678", "", "+445612345678", "+44 56 1234 5678", true, true, nullptr, "GB", 44, "voip", "056 1234 5678"},
    {"+44 70 1234 5678", "", "+447012345678", "+44 70 1234 5678", true, true, nullptr, "GB", 44, "personal_number", "070 1234 5678"},
    {"+44 76 4012 3456", "", "+447640123456", "+44 76 4012 3456", true, true, nullptr, "GB", 44, "pager", "076 4012 3456"},
    {"+44 55 1234 5678", "", "+445512345678", "+44 55 1234 5678", true, true, nullptr, "GB", 44, "uan", "055 1234 5678"},
    {"+800 1234 5678", "", "+80012345678", "+800 1234 5678", true, true, nullptr, nullptr, 800, "toll_free", "1234 5678"},
    {"+44 7700 900123", "", "+447700900123", "+44 7700 900123", false, true, "INVALID_FOR_REGION", nullptr, 44, "unknown", "07700 900123"},
    {"+44 79", "", "+4479", "+44 79", false, false, "TOO_SHORT", nullptr, 44, "unknown", "79"},
    {"+44 7911 1234567890", "", "+4479111234567890", "+44 79111234567890", false, false, "TOO_LONG", nullptr, 44, "unknown", "79111234567890"},
    {"hello", "", nullptr, nullptr, false, false, "NOT_A_NUMBER", nullptr, nullptr, "unknown", nullptr},
    {"+1 650 253 0000 ext 12", "", nullptr, nullptr, false, false, "NOT_A_NUMBER", nullptr, nullptr, "unknown", nullptr},
    {"+0 123 4567 89", "", nullptr, nullptr, false, false, "INVALID_COUNTRY_CODE", nullptr, nullptr, "unknown", nullptr},
    {"+999 482 918 102", "", "+999482918102", "+999 482 918 102", true, true, nullptr, nullptr, 999, "virtual", nullptr},
    {"+999482918102", "GB", "+999482918102", "+999 482 918 102", true, true, nullptr, nullptr, 999, "virtual", nullptr},
  };

}  // namespace testing
