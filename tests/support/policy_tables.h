// The per-application policy's tables (SPEC §15), shared by the unit rules and the API suite
// (both engines): policies accepted and refused, and SMS texts with their encoding, characters
// and segments.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace testing {

struct PolicyRow {
  const char* name;
  nlohmann::json body;
  std::vector<std::string> refused;  // the fields named in details.fields; empty = accepted
};

inline const std::vector<PolicyRow> kPolicyRows = {
      {"empty body: all defaults", nlohmann::json::object(), {}},
      {"6 digits, 5 attempts", {{"codeLength", 6}, {"maxAttempts", 5}}, {}},
      {"4 digits allow 1 attempt", {{"codeLength", 4}, {"maxAttempts", 1}}, {}},
      {"4 digits refuse 2 attempts", {{"codeLength", 4}, {"maxAttempts", 2}}, {"codeLength"}},
      {"5 digits allow 10 attempts", {{"codeLength", 5}, {"maxAttempts", 10}}, {}},
      {"4 alphanumeric allow 10 attempts", {{"codeLength", 4}, {"codeAlphabet", "alphanumeric"}, {"maxAttempts", 10}}, {}},
      {"code length 3", {{"codeLength", 3}}, {"codeLength"}},
      {"code length 11", {{"codeLength", 11}}, {"codeLength"}},
      {"code length as a string", {{"codeLength", "6"}}, {"codeLength"}},
      {"unknown alphabet", {{"codeAlphabet", "hex"}}, {"codeAlphabet"}},
      {"ttl 29", {{"ttlSeconds", 29}}, {"ttlSeconds"}},
      {"ttl 3601", {{"ttlSeconds", 3601}}, {"ttlSeconds"}},
      {"ttl 30 and 3600", {{"ttlSeconds", 30}}, {}},
      {"attempts 0", {{"maxAttempts", 0}}, {"maxAttempts"}},
      {"attempts 11", {{"maxAttempts", 11}}, {"maxAttempts"}},
      {"default locale without template", {{"defaultLocale", "de"}}, {"defaultLocale"}},
      {"default locale matched case-insensitively", {{"defaultLocale", "EN"}}, {}},
      {"default locale not a tag", {{"defaultLocale", "english!"}}, {"defaultLocale"}},
      {"template without code", {{"templates", {{"en", "Your code"}}}}, {"templates.en"}},
      {"template with code twice", {{"templates", {{"en", "{code} {code}"}}}}, {"templates.en"}},
      {"template with unknown placeholder", {{"templates", {{"en", "{code} for {user}"}}}}, {"templates.en"}},
      {"template over 480 characters", {{"templates", {{"en", "{code}" + std::string(475, 'x')}}}}, {"templates.en"}},
      {"template of 480 characters", {{"templates", {{"en", "{code}" + std::string(474, 'x')}}}}, {}},
      {"template key not a tag", {{"templates", {{"en_US!", "{code}"}, {"en", "{code}"}}}}, {"templates.en_US!"}},
      {"same locale twice", {{"templates", {{"en", "{code}"}, {"EN", "{code}"}}}}, {"templates.en"}},
      {"empty templates", {{"templates", nlohmann::json::object()}}, {"templates"}},
      {"templates not an object", {{"templates", "x"}}, {"templates"}},
      {"pt-BR and de templates", {{"templates", {{"en", "{code}"}, {"pt-BR", "{code} é seu código"}, {"de", "{code}"}}}}, {}},
      {"region GB", {{"defaultRegion", "gb"}}, {}},
      {"region without a plan", {{"defaultRegion", "XX"}}, {"defaultRegion"}},
      {"region of three letters", {{"defaultRegion", "GBR"}}, {"defaultRegion"}},
      {"validation possible", {{"numberValidation", "possible"}}, {}},
      {"validation strict", {{"numberValidation", "strict"}}, {"numberValidation"}},
      {"every bad field at once", {{"codeLength", 2}, {"ttlSeconds", 1}, {"numberValidation", 1}}, {"codeLength", "ttlSeconds", "numberValidation"}},
  };

struct SmsRow {
  std::string text;
  const char* encoding;
  int characters;
  int segments;
};

inline const std::vector<SmsRow> kSmsRows = {
      {"123456 is your Demo code.", "GSM-7", 25, 1},
      {std::string(160, 'a'), "GSM-7", 160, 1},
      {std::string(161, 'a'), "GSM-7", 161, 2},
      {std::string(306, 'a'), "GSM-7", 306, 2},
      {std::string(307, 'a'), "GSM-7", 307, 3},
      {"Preis: 5 \xe2\x82\xac [Code]", "GSM-7", 20, 1},           // € [ ] count 2 each
      {"{code} ~ ^ | \\", "GSM-7", 20, 1},                          // { } ~ ^ | \ count 2 each
      {"Dein Code f\xc3\xbcr \xc3\x84pfel: 1234", "GSM-7", 25, 1},  // ü Ä are in the basic set
      {"Your code \xe2\x80\x9c" "1234\xe2\x80\x9d", "UCS-2", 16, 1},   // curly quotes force UCS-2
      {std::string(70, 'a') + "\xc3\xa7", "UCS-2", 71, 2},           // ç is not GSM-7 (Ç is)
      {"\xf0\x9f\x94\x91 1234", "UCS-2", 7, 1},                      // an emoji is two UTF-16 units
      {std::string(134, 'a') + "\xc3\xa7", "UCS-2", 135, 3},
  };

}  // namespace testing
