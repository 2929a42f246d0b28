// The per-application policy's pure rules (SPEC §15): reading a PUT body, the guessing floor,
// locale fallback, code shapes and the SMS encoding of template previews.
#include <doctest/doctest.h>

#include "core/policy.h"
#include "core/sms_text.h"
#include "tests/support/policy_tables.h"

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
  const auto& rows = testing::kPolicyRows;
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
  const auto& rows = testing::kSmsRows;
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
