// The per-application OTP policy (SPEC §15): code shape, lifetime, attempts, message templates
// per BCP 47 locale, and how phone numbers are read (§14). Reading a PUT body reports every bad
// field at once; the guessing floor keeps any policy at 1 in 10,000 or better per request.
// Value types and pure functions; thread-safe.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/abuse.h"
#include "core/error.h"
#include "core/phone.h"
#include "core/random.h"

namespace core {

enum class CodeAlphabet { kDigits, kAlphanumeric };

std::string code_alphabet_name(CodeAlphabet alphabet);
std::optional<CodeAlphabet> parse_code_alphabet(std::string_view name);
// The symbols of an alphabet: 0–9, or A–Z and 2–9 without O, I and L (31 symbols).
std::string_view code_symbols(CodeAlphabet alphabet);

struct OtpPolicy {
  int code_length = 6;
  CodeAlphabet code_alphabet = CodeAlphabet::kDigits;
  int ttl_seconds = 300;
  int max_attempts = 5;
  std::string default_locale = "en";
  std::map<std::string, std::string> templates;  // BCP 47 tag as written → text
  std::optional<std::string> default_region;     // alpha-2, for numbers sent without '+'
  NumberValidation number_validation = NumberValidation::kValid;
  AbusePolicy abuse;  // SPEC §17
};

constexpr char kDefaultTemplate[] = "{code} is your {app} verification code. It expires in {minutes} minutes.";

// The policy of an application that never had one set: --otp-ttl-seconds and --sms-template
// (as the "en" template).
OtpPolicy default_policy(int ttl_seconds, const std::string& template_text = kDefaultTemplate);

// A PUT body: fields left out (or null) take their value in `defaults`; 400 naming every bad
// field.
Result<OtpPolicy> read_policy(const nlohmann::json& body, const OtpPolicy& defaults);

// The policy's fields as stored and as answered (without the preview).
nlohmann::json policy_fields_json(const OtpPolicy& policy);
// A stored policy (written by policy_fields_json); anything unreadable takes its default.
OtpPolicy stored_policy(std::string_view json_text, const OtpPolicy& defaults);

// Per locale: the template rendered with a sample code and `app_name`, its SMS encoding,
// characters and segments.
nlohmann::json template_preview(const OtpPolicy& policy, const std::string& app_name);

// True for a BCP 47 language tag (`en`, `pt-BR`, `zh-Hant-TW`), checked by its shape.
bool is_language_tag(std::string_view tag);

// The template for a send: the exact tag, then its language (`de-AT` → `de`), then the default
// locale, all case-insensitive. Returns the tag as the policy spells it.
std::string choose_locale(const OtpPolicy& policy, const std::optional<std::string>& requested);

// The message text of a code: {code}, {app} and {minutes} (the TTL rounded up).
std::string render_message(const std::string& text, const std::string& code, const std::string& app_name,
                           int ttl_seconds);

// A fresh code of the policy's length and alphabet, uniform over the symbols.
std::string generate_code(int length, CodeAlphabet alphabet, Random& random);
// The code as compared: upper case for the alphanumeric alphabet (verify ignores case);
// nullopt when it is not of the shape (a 400, not an attempt).
std::optional<std::string> canonical_code(std::string_view code, int length, CodeAlphabet alphabet);

}  // namespace core
