#include "core/policy.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/sms_text.h"
#include "core/templates.h"
#include "core/validation.h"

namespace core {

namespace {

constexpr int kMinCodeLength = 4;
constexpr int kMaxCodeLength = 10;
constexpr int kMinTtl = 30;
constexpr int kMaxTtl = 3600;
constexpr int kMaxAttempts = 10;
constexpr std::size_t kMaxTemplateLength = 480;
constexpr std::size_t kMaxTemplates = 100;
constexpr double kGuessingFloor = 10'000;  // odds per request must be 1 in this or better

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool alnum_run(std::string_view part, std::size_t min, std::size_t max, bool letters_only) {
  if (part.size() < min || part.size() > max) return false;
  for (char c : part) {
    const auto u = static_cast<unsigned char>(c);
    if (letters_only ? !std::isalpha(u) : !std::isalnum(u)) return false;
  }
  return true;
}

// Why a template text is refused, or empty.
std::string template_problem(const std::string& text) {
  const auto length = utf8_length(text);
  if (!length) return "must be valid UTF-8";
  if (*length < 1 || *length > kMaxTemplateLength) return "must be 1 to 480 characters";
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') return "must not contain control characters other than a line feed";
  }
  int codes = 0;
  for (std::size_t open = text.find('{'); open != std::string::npos; open = text.find('{', open + 1)) {
    const auto close = text.find('}', open + 1);
    if (close == std::string::npos) break;
    const std::string name = text.substr(open + 1, close - open - 1);
    if (name.empty() || !alnum_run(name, 1, 64, false)) continue;  // a literal brace, not a placeholder
    if (name == "code") {
      ++codes;
    } else if (name != "app" && name != "minutes") {
      return "uses {" + name + "}; the placeholders are {code}, {app} and {minutes}";
    }
  }
  if (codes != 1) return "must contain {code} exactly once";
  return {};
}

std::string with_thousands(long long value) {
  std::string digits = std::to_string(value);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
  return digits;
}

// The guessing floor (SPEC §15): maxAttempts / alphabet^codeLength ≤ 1 / 10,000.
std::optional<std::string> guessing_problem(const OtpPolicy& policy) {
  const double space = std::pow(static_cast<double>(code_symbols(policy.code_alphabet).size()), policy.code_length);
  if (static_cast<double>(policy.max_attempts) * kGuessingFloor <= space) return std::nullopt;
  const auto odds = static_cast<long long>(space / policy.max_attempts);
  return std::to_string(policy.max_attempts) + " attempts at a " + std::to_string(policy.code_length) + "-" +
         (policy.code_alphabet == CodeAlphabet::kDigits ? "digit" : "symbol") + " code give odds of 1 in " +
         with_thousands(odds) +
         " of guessing a request; the floor is 1 in 10,000: use a longer code, the alphanumeric alphabet or fewer attempts";
}

bool absent(const nlohmann::json& body, const char* name) {
  return !body.contains(name) || body[name].is_null();
}

std::optional<int> read_int(const nlohmann::json& body, const char* name, int min, int max, FieldReader& fields) {
  if (absent(body, name)) return std::nullopt;
  const auto& value = body[name];
  if (!value.is_number_integer() || value.get<long long>() < min || value.get<long long>() > max) {
    fields.reject(name, "must be an integer between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return static_cast<int>(value.get<long long>());
}

// False when a template was refused (then the default locale cannot be checked against them).
bool read_templates(const nlohmann::json& body, OtpPolicy& policy, FieldReader& fields) {
  if (absent(body, "templates")) return true;
  const auto& value = body["templates"];
  if (!value.is_object() || value.empty() || value.size() > kMaxTemplates) {
    fields.reject("templates", "must be an object of 1 to 100 BCP 47 tags and their texts");
    return false;
  }
  bool all_read = true;
  std::map<std::string, std::string> templates;
  std::map<std::string, std::string> seen;  // lower-case tag → as written
  for (const auto& [tag, text] : value.items()) {
    const std::string field = "templates." + tag;
    if (!is_language_tag(tag)) {
      fields.reject(field, "is not a BCP 47 language tag (such as en, de or pt-BR)");
      all_read = false;
      continue;
    }
    if (const auto [it, fresh] = seen.emplace(lower(tag), tag); !fresh) {
      fields.reject(field, "names the same locale as " + it->second);
      all_read = false;
      continue;
    }
    if (!text.is_string()) {
      fields.reject(field, "must be a string");
      all_read = false;
      continue;
    }
    if (auto problem = template_problem(text.get<std::string>()); !problem.empty()) {
      fields.reject(field, problem);
      all_read = false;
      continue;
    }
    templates[tag] = text.get<std::string>();
  }
  policy.templates = std::move(templates);
  return all_read;
}

void read_strings(const nlohmann::json& body, OtpPolicy& policy, FieldReader& fields) {
  if (!absent(body, "codeAlphabet")) {
    const auto& value = body["codeAlphabet"];
    const auto alphabet = value.is_string() ? parse_code_alphabet(value.get<std::string>()) : std::nullopt;
    if (alphabet) {
      policy.code_alphabet = *alphabet;
    } else {
      fields.reject("codeAlphabet", "must be \"digits\" or \"alphanumeric\"");
    }
  }
  if (!absent(body, "numberValidation")) {
    const auto& value = body["numberValidation"];
    const auto mode = value.is_string() ? parse_number_validation(value.get<std::string>()) : std::nullopt;
    if (mode) {
      policy.number_validation = *mode;
    } else {
      fields.reject("numberValidation", "must be \"valid\", \"possible\" or \"off\"");
    }
  }
  if (!absent(body, "defaultRegion")) {
    const auto& value = body["defaultRegion"];
    const auto region = value.is_string() ? parse_region_code(value.get<std::string>()) : std::nullopt;
    if (region && is_supported_region(*region)) {
      policy.default_region = region;
    } else {
      fields.reject("defaultRegion", "must be null or an ISO 3166-1 alpha-2 region code with a numbering plan (such as GB)");
    }
  }
  if (!absent(body, "defaultLocale")) {
    const auto& value = body["defaultLocale"];
    if (value.is_string() && is_language_tag(value.get<std::string>())) {
      policy.default_locale = value.get<std::string>();
    } else {
      fields.reject("defaultLocale", "must be a BCP 47 language tag (such as en)");
    }
  }
}

const std::string* template_for(const OtpPolicy& policy, std::string_view tag) {
  const std::string wanted = lower(tag);
  for (const auto& [key, text] : policy.templates) {
    if (lower(key) == wanted) return &key;
  }
  return nullptr;
}

std::string sample_code(const OtpPolicy& policy) {
  // Fixed so a preview is stable; the symbols are of the alphabet.
  const std::string_view pattern = policy.code_alphabet == CodeAlphabet::kDigits ? "4829175036" : "K7M3QX9R2T";
  return std::string(pattern.substr(0, static_cast<std::size_t>(policy.code_length)));
}

}  // namespace

std::string code_alphabet_name(CodeAlphabet alphabet) {
  return alphabet == CodeAlphabet::kDigits ? "digits" : "alphanumeric";
}

std::optional<CodeAlphabet> parse_code_alphabet(std::string_view name) {
  if (name == "digits") return CodeAlphabet::kDigits;
  if (name == "alphanumeric") return CodeAlphabet::kAlphanumeric;
  return std::nullopt;
}

std::string_view code_symbols(CodeAlphabet alphabet) {
  return alphabet == CodeAlphabet::kDigits ? "0123456789" : "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
}

OtpPolicy default_policy(int ttl_seconds, const std::string& template_text) {
  OtpPolicy policy;
  policy.ttl_seconds = ttl_seconds;
  policy.templates = {{"en", template_text}};
  return policy;
}

Result<OtpPolicy> read_policy(const nlohmann::json& body, const OtpPolicy& defaults) {
  OtpPolicy policy = defaults;
  FieldReader fields(body);
  const auto length = read_int(body, "codeLength", kMinCodeLength, kMaxCodeLength, fields);
  const auto ttl = read_int(body, "ttlSeconds", kMinTtl, kMaxTtl, fields);
  const auto attempts = read_int(body, "maxAttempts", 1, kMaxAttempts, fields);
  if (length) policy.code_length = *length;
  if (ttl) policy.ttl_seconds = *ttl;
  if (attempts) policy.max_attempts = *attempts;
  read_strings(body, policy, fields);
  read_abuse_policy(body, policy.abuse, fields);
  const bool templates_read = read_templates(body, policy, fields);
  const bool shape_readable = !fields.has_problem("codeLength") && !fields.has_problem("codeAlphabet") &&
                              !fields.has_problem("maxAttempts");
  if (shape_readable) {
    if (auto problem = guessing_problem(policy)) fields.reject("codeLength", *problem);
  }
  if (templates_read && !fields.has_problem("defaultLocale") &&
      template_for(policy, policy.default_locale) == nullptr) {
    fields.reject("defaultLocale", "has no template: add one under templates." + policy.default_locale);
  }
  if (!fields.ok()) return fields.error();
  return policy;
}

nlohmann::json policy_fields_json(const OtpPolicy& policy) {
  nlohmann::json fields = {{"codeLength", policy.code_length},
          {"codeAlphabet", code_alphabet_name(policy.code_alphabet)},
          {"ttlSeconds", policy.ttl_seconds},
          {"maxAttempts", policy.max_attempts},
          {"defaultLocale", policy.default_locale},
          {"templates", policy.templates},
          {"defaultRegion", policy.default_region ? nlohmann::json(*policy.default_region) : nlohmann::json(nullptr)},
          {"numberValidation", number_validation_name(policy.number_validation)}};
  add_abuse_fields(fields, policy.abuse);
  return fields;
}

OtpPolicy stored_policy(std::string_view json_text, const OtpPolicy& defaults) {
  const auto stored = nlohmann::json::parse(json_text, nullptr, false);
  if (!stored.is_object()) return defaults;
  auto read = read_policy(stored, defaults);
  // Written by this server, so always readable; a hand-edited row falls back to the defaults.
  return read.ok() ? read.value() : defaults;
}

nlohmann::json template_preview(const OtpPolicy& policy, const std::string& app_name) {
  nlohmann::json preview = nlohmann::json::object();
  const std::string code = sample_code(policy);
  for (const auto& [tag, text] : policy.templates) {
    const std::string rendered = render_message(text, code, app_name, policy.ttl_seconds);
    const SmsEncoding encoding = sms_encoding(rendered);
    preview[tag] = {{"text", rendered},
                    {"encoding", encoding.encoding},
                    {"characters", encoding.characters},
                    {"segments", encoding.segments}};
  }
  return preview;
}

bool is_language_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 35) return false;
  std::size_t start = 0;
  bool first = true;
  while (start <= tag.size()) {
    auto end = tag.find('-', start);
    if (end == std::string_view::npos) end = tag.size();
    const std::string_view part = tag.substr(start, end - start);
    // The language: 2–3 letters (or 4–8 for registered ones); then subtags of 1–8 alphanumerics.
    if (first ? !alnum_run(part, 2, 8, true) : !alnum_run(part, 1, 8, false)) return false;
    first = false;
    if (end == tag.size()) break;
    start = end + 1;
  }
  return !tag.ends_with('-');
}

std::string choose_locale(const OtpPolicy& policy, const std::optional<std::string>& requested) {
  if (requested) {
    if (const auto* exact = template_for(policy, *requested)) return *exact;
    const std::string language = requested->substr(0, requested->find('-'));
    if (const auto* by_language = template_for(policy, language)) return *by_language;
  }
  if (const auto* fallback = template_for(policy, policy.default_locale)) return *fallback;
  return policy.templates.empty() ? policy.default_locale : policy.templates.begin()->first;
}

std::string render_message(const std::string& text, const std::string& code, const std::string& app_name,
                           int ttl_seconds) {
  return expand_template(text, {{"code", code}, {"app", app_name}, {"minutes", std::to_string((ttl_seconds + 59) / 60)}},
                         Escape::kNone);
}

std::string generate_code(int length, CodeAlphabet alphabet, Random& random) {
  // One uniform draw per chunk of symbols (each draw may be a system call): 10^9 and 31^6 are
  // the largest powers under 2^32, so 6 digits take one draw, as they did before policies.
  const std::string_view symbols = code_symbols(alphabet);
  const auto base = static_cast<std::uint32_t>(symbols.size());
  const int per_draw = alphabet == CodeAlphabet::kDigits ? 9 : 6;
  std::string code(static_cast<std::size_t>(length), symbols[0]);
  for (int start = 0; start < length; start += per_draw) {
    const int count = std::min(per_draw, length - start);
    std::uint32_t range = 1;
    for (int i = 0; i < count; ++i) range *= base;
    std::uint32_t value = random.uniform(range);
    for (int i = start + count - 1; i >= start; --i) {
      code[static_cast<std::size_t>(i)] = symbols[value % base];
      value /= base;
    }
  }
  return code;
}

std::optional<std::string> canonical_code(std::string_view code, int length, CodeAlphabet alphabet) {
  if (code.size() != static_cast<std::size_t>(length)) return std::nullopt;
  std::string canonical(code);
  if (alphabet == CodeAlphabet::kAlphanumeric) {
    for (char& c : canonical) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (canonical.find_first_not_of(code_symbols(alphabet)) != std::string::npos) return std::nullopt;
  return canonical;
}

}  // namespace core
