// The per-application policy's pure rules (SPEC §15): reading a PUT body, the guessing floor,
// locale fallback, code shapes and the SMS encoding of template previews.
#include <doctest/doctest.h>

#include "core/policy.h"
#include "core/sms_text.h"

using nlohmann::json;

namespace {

const core::OtpPolicy kDefaults = core::default_policy(300);

json refused_fields(const json& body) {
  const auto read = core::read_policy(body, kDefaults);
  if (read.ok()) return json::object();
  return read.error().details["fields"];
}

}  // namespace

TEST_CASE("policies accepted and refused, one row per case") {
  struct Row {
    const char* name;
    json body;
    std::vector<std::string> refused;  // the fields named in details.fields; empty = accepted
  };
  const std::vector<Row> rows = {
      {"empty body: all defaults", json::object(), {}},
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
      {"empty templates", {{"templates", json::object()}}, {"templates"}},
      {"templates not an object", {{"templates", "x"}}, {"templates"}},
      {"pt-BR and de templates", {{"templates", {{"en", "{code}"}, {"pt-BR", "{code} é seu código"}, {"de", "{code}"}}}}, {}},
      {"region GB", {{"defaultRegion", "gb"}}, {}},
      {"region without a plan", {{"defaultRegion", "XX"}}, {"defaultRegion"}},
      {"region of three letters", {{"defaultRegion", "GBR"}}, {"defaultRegion"}},
      {"validation possible", {{"numberValidation", "possible"}}, {}},
      {"validation strict", {{"numberValidation", "strict"}}, {"numberValidation"}},
      {"every bad field at once", {{"codeLength", 2}, {"ttlSeconds", 1}, {"numberValidation", 1}}, {"codeLength", "ttlSeconds", "numberValidation"}},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    const json fields = refused_fields(row.body);
    CHECK(fields.size() == row.refused.size());
    for (const auto& name : row.refused) CHECK(fields.contains(name));
  }
}

TEST_CASE("the guessing floor's error states the odds") {
  const json fields = refused_fields({{"codeLength", 4}, {"maxAttempts", 5}});
  CHECK(fields["codeLength"].get<std::string>().find("1 in 2,000") != std::string::npos);
  CHECK(fields["codeLength"].get<std::string>().find("1 in 10,000") != std::string::npos);
}

TEST_CASE("a policy survives being stored and read back") {
  const auto read = core::read_policy({{"codeLength", 8}, {"codeAlphabet", "alphanumeric"}, {"ttlSeconds", 120},
                                       {"maxAttempts", 3}, {"defaultLocale", "de"}, {"defaultRegion", "DE"},
                                       {"numberValidation", "off"}, {"templates", {{"de", "{code} ist Ihr Code"}}}},
                                      kDefaults);
  REQUIRE(read.ok());
  const auto again = core::stored_policy(core::policy_fields_json(read.value()).dump(), kDefaults);
  CHECK(core::policy_fields_json(again) == core::policy_fields_json(read.value()));
}

TEST_CASE("locales: exact tag, then language, then the default, case-insensitively") {
  auto policy = core::read_policy({{"templates", {{"en", "{code}"}, {"de", "{code}"}, {"pt-BR", "{code}"}}}}, kDefaults).value();
  CHECK(core::choose_locale(policy, "pt-BR") == "pt-BR");
  CHECK(core::choose_locale(policy, "PT-br") == "pt-BR");
  CHECK(core::choose_locale(policy, "de-AT") == "de");
  CHECK(core::choose_locale(policy, "pt-PT") == "en");
  CHECK(core::choose_locale(policy, "fr") == "en");
  CHECK(core::choose_locale(policy, std::nullopt) == "en");
  CHECK(core::is_language_tag("zh-Hant-TW"));
  CHECK_FALSE(core::is_language_tag("e"));
  CHECK_FALSE(core::is_language_tag("en-"));
  CHECK_FALSE(core::is_language_tag("en_GB"));
}

TEST_CASE("codes have the policy's shape; alphanumeric codes compare case-insensitively") {
  core::SeededRandom random(7);
  for (int i = 0; i < 200; ++i) {
    const std::string digits = core::generate_code(4, core::CodeAlphabet::kDigits, random);
    CHECK(digits.size() == 4);
    CHECK(digits.find_first_not_of("0123456789") == std::string::npos);
    const std::string symbols = core::generate_code(10, core::CodeAlphabet::kAlphanumeric, random);
    CHECK(symbols.find_first_of("OIL01") == std::string::npos);
    CHECK(core::canonical_code(symbols, 10, core::CodeAlphabet::kAlphanumeric) == symbols);
  }
  CHECK(core::code_symbols(core::CodeAlphabet::kAlphanumeric).size() == 31);
  CHECK(core::canonical_code("k7m3", 4, core::CodeAlphabet::kAlphanumeric) == "K7M3");
  CHECK_FALSE(core::canonical_code("K7M0", 4, core::CodeAlphabet::kAlphanumeric).has_value());
  CHECK_FALSE(core::canonical_code("12345", 6, core::CodeAlphabet::kDigits).has_value());
  CHECK_FALSE(core::canonical_code("12345a", 6, core::CodeAlphabet::kDigits).has_value());
}

TEST_CASE("SMS encoding and segments, one row per text") {
  struct Row {
    std::string text;
    const char* encoding;
    int characters;
    int segments;
  };
  const std::vector<Row> rows = {
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
  for (const auto& row : rows) {
    CAPTURE(row.text);
    const auto encoded = core::sms_encoding(row.text);
    CHECK(encoded.encoding == row.encoding);
    CHECK(encoded.characters == row.characters);
    CHECK(encoded.segments == row.segments);
  }
}

TEST_CASE("template previews render a sample code of the policy's shape and the app's name") {
  auto policy = core::read_policy({{"codeLength", 8}, {"ttlSeconds", 90}}, kDefaults).value();
  const json preview = core::template_preview(policy, "Shop");
  CHECK(preview["en"]["text"] == "48291750 is your Shop verification code. It expires in 2 minutes.");
  CHECK(preview["en"]["encoding"] == "GSM-7");
  CHECK(preview["en"]["segments"] == 1);
}
