#include "core/phone.h"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <mutex>
#include <unordered_map>

#ifndef COBINAR_PHONENUMBER_METADATA
#define COBINAR_PHONENUMBER_METADATA "unknown"
#endif

namespace core {

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

const PhoneNumberUtil& util() { return *PhoneNumberUtil::GetInstance(); }

constexpr std::size_t kMinE164Digits = 8;
constexpr std::size_t kMaxE164Digits = 15;

// The characters SPEC §14 allows: a leading '+', digits, spaces, dashes, dots, parentheses.
// libphonenumber itself would also read letters (vanity numbers) and extensions.
bool allowed_characters(std::string_view input) {
  bool seen_digit_or_plus = false;
  for (char c : input) {
    if (c == '+') {
      if (seen_digit_or_plus) return false;
      seen_digit_or_plus = true;
    } else if (c >= '0' && c <= '9') {
      seen_digit_or_plus = true;
    } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
      return false;
    }
  }
  return true;
}

std::string digits_of(std::string_view input) {
  std::string digits;
  for (char c : input) {
    if (c >= '0' && c <= '9') digits += c;
  }
  return digits;
}

bool starts_with_plus(std::string_view input) {
  const auto first = input.find_first_not_of(" ");
  return first != std::string_view::npos && input[first] == '+';
}

// '+', 8–15 digits, a country code not starting with 0: what numberValidation "off" accepts.
bool e164_shaped(std::string_view e164) {
  if (e164.size() < 2 || e164[0] != '+') return false;
  const std::string_view digits = e164.substr(1);
  return digits.size() >= kMinE164Digits && digits.size() <= kMaxE164Digits && digits[0] != '0' &&
         digits.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string type_name(PhoneNumberUtil::PhoneNumberType type) {
  switch (type) {
    case PhoneNumberUtil::FIXED_LINE: return "fixed_line";
    case PhoneNumberUtil::MOBILE: return "mobile";
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE: return "fixed_line_or_mobile";
    case PhoneNumberUtil::TOLL_FREE: return "toll_free";
    case PhoneNumberUtil::PREMIUM_RATE: return "premium_rate";
    case PhoneNumberUtil::SHARED_COST: return "shared_cost";
    case PhoneNumberUtil::VOIP: return "voip";
    case PhoneNumberUtil::PERSONAL_NUMBER: return "personal_number";
    case PhoneNumberUtil::PAGER: return "pager";
    case PhoneNumberUtil::UAN: return "uan";
    case PhoneNumberUtil::VOICEMAIL: return "voicemail";
    case PhoneNumberUtil::UNKNOWN: return "unknown";
  }
  return "unknown";
}

std::string parse_error_reason(PhoneNumberUtil::ErrorType error) {
  switch (error) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR: return "INVALID_COUNTRY_CODE";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN: return "TOO_SHORT";
    case PhoneNumberUtil::TOO_LONG_NSN: return "TOO_LONG";
    default: return "NOT_A_NUMBER";
  }
}

std::optional<std::string> possibility_reason(PhoneNumberUtil::ValidationResult result) {
  switch (result) {
    case PhoneNumberUtil::IS_POSSIBLE: return std::nullopt;
    // A number diallable only inside its area is not a number we can send to.
    case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY: return "INVALID_LENGTH";
    case PhoneNumberUtil::INVALID_COUNTRY_CODE: return "INVALID_COUNTRY_CODE";
    case PhoneNumberUtil::TOO_SHORT: return "TOO_SHORT";
    case PhoneNumberUtil::INVALID_LENGTH: return "INVALID_LENGTH";
    case PhoneNumberUtil::TOO_LONG: return "TOO_LONG";
  }
  return "INVALID_LENGTH";
}

std::optional<std::string> geographic(const std::string& region) {
  if (region.size() != 2 || region == "ZZ") return std::nullopt;  // "001": non-geographic entity
  return region;
}

bool under_allowed_prefix(const std::string& e164, const AllowedPrefixes& allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& prefix) { return e164.starts_with(prefix); });
}

// Display forms already computed, shared by every thread: formatting costs libphonenumber ~20 µs,
// and one number is shown many times (the send's answer and event, the verify's events and
// answer, console reads). Sharded so threads rarely meet; a full shard is simply emptied.
class DisplayCache {
 public:
  std::optional<std::string> find(const std::string& e164) {
    Shard& shard = shard_for(e164);
    std::lock_guard lock(shard.mutex);
    const auto it = shard.entries.find(e164);
    if (it == shard.entries.end()) return std::nullopt;
    return it->second;
  }
  void put(const std::string& e164, const std::string& display) {
    Shard& shard = shard_for(e164);
    std::lock_guard lock(shard.mutex);
    if (shard.entries.size() >= kShardCapacity) shard.entries.clear();
    shard.entries.emplace(e164, display);
  }

 private:
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kShardCapacity = 2048;
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::string> entries;
  };
  Shard& shard_for(const std::string& e164) { return shards_[std::hash<std::string>{}(e164) % kShards]; }
  std::array<Shard, kShards> shards_;
};

DisplayCache& display_cache() {
  static DisplayCache cache;
  return cache;
}

std::string grouped_virtual(const std::string& e164) {
  const std::string_view national = std::string_view(e164).substr(4);
  std::string out = "+999";
  for (std::size_t i = 0; i < national.size(); i += 3) {
    out.push_back(' ');
    out.append(national.substr(i, 3));
  }
  return out;
}

PhoneInfo describe_virtual(const std::string& digits) {
  PhoneInfo info;
  info.country_code = 999;
  info.number_type = "virtual";
  if (digits.size() < kMinE164Digits) {
    info.reason = "TOO_SHORT";
  } else if (digits.size() > kMaxE164Digits) {
    info.reason = "TOO_LONG";
  } else {
    info.e164 = "+" + digits;
    info.valid = info.possible = true;
    info.international_format = grouped_virtual(*info.e164);
  }
  return info;
}

std::string problem_sentence(const std::string& reason) {
  if (reason == "INVALID_COUNTRY_CODE") {
    return "has no known country code: start it with + and the country code, or give region";
  }
  if (reason == "TOO_SHORT") return "is too short for its country's numbering plan";
  if (reason == "TOO_LONG") return "is too long for its country's numbering plan";
  if (reason == "INVALID_LENGTH") return "has a length no number of its country has";
  if (reason == "INVALID_FOR_REGION") return "is not a number in its country's numbering plan";
  return "is not a phone number (use + and the country code, then digits, spaces, dashes, dots or parentheses)";
}

}  // namespace

std::optional<NumberValidation> parse_number_validation(std::string_view name) {
  if (name == "valid") return NumberValidation::kValid;
  if (name == "possible") return NumberValidation::kPossible;
  if (name == "off") return NumberValidation::kOff;
  return std::nullopt;
}

std::string number_validation_name(NumberValidation mode) {
  switch (mode) {
    case NumberValidation::kValid: return "valid";
    case NumberValidation::kPossible: return "possible";
    case NumberValidation::kOff: return "off";
  }
  return "valid";
}

std::optional<std::string> parse_region_code(std::string_view text) {
  if (text.size() != 2) return std::nullopt;
  std::string region;
  for (char c : text) {
    if (!std::isalpha(static_cast<unsigned char>(c))) return std::nullopt;
    region += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return region;
}

bool is_supported_region(const std::string& region) {
  return util().GetCountryCodeForRegion(region) != 0;
}

namespace {

// The national format is for the lookup's answer only; a send or a backfill skips it (one
// libphonenumber format call, ~10 µs, less on the hot path).
enum class NationalFormat { kSkip, kInclude };

PhoneInfo describe(std::string_view input, const std::optional<std::string>& region, const AllowedPrefixes& allowed,
                   NationalFormat national) {
  PhoneInfo info;
  const std::string digits = digits_of(input);
  if (!allowed_characters(input) || digits.empty()) {
    info.reason = "NOT_A_NUMBER";
    return info;
  }
  if (starts_with_plus(input) && digits.starts_with("999")) return describe_virtual(digits);

  PhoneNumber number;
  const auto error = util().Parse(std::string(input), region.value_or("ZZ"), &number);
  if (error != PhoneNumberUtil::NO_PARSING_ERROR) {
    info.reason = parse_error_reason(error);
    return info;
  }
  std::string text;
  util().Format(number, PhoneNumberUtil::E164, &text);
  info.e164 = text;
  info.country_code = number.country_code();
  util().GetRegionCodeForNumber(number, &text);
  info.region = geographic(text);
  if (national == NationalFormat::kInclude) {
    util().Format(number, PhoneNumberUtil::NATIONAL, &text);
    info.national_format = text;
  }
  util().Format(number, PhoneNumberUtil::INTERNATIONAL, &text);
  info.international_format = text;
  display_cache().put(*info.e164, text);

  info.reason = possibility_reason(util().IsPossibleNumberWithReason(number));
  info.possible = !info.reason.has_value();
  info.valid = util().IsValidNumber(number);
  if (info.valid) {
    info.number_type = type_name(util().GetNumberType(number));
  } else if (info.possible) {
    info.reason = "INVALID_FOR_REGION";
  }
  if (!info.valid && e164_shaped(*info.e164) && under_allowed_prefix(*info.e164, allowed)) {
    info.valid = info.possible = true;
    info.reason.reset();
    if (!info.region) {
      util().GetRegionCodeForCountryCode(info.country_code, &text);
      info.region = geographic(text);
    }
  }
  return info;
}

}  // namespace

PhoneInfo describe_phone(std::string_view input, const std::optional<std::string>& region,
                         const AllowedPrefixes& allowed) {
  return describe(input, region, allowed, NationalFormat::kInclude);
}

PhoneCheck check_phone(std::string_view input, const std::optional<std::string>& region, NumberValidation mode,
                       const AllowedPrefixes& allowed) {
  PhoneCheck check{describe(input, region, allowed, NationalFormat::kSkip), false, {}};
  PhoneInfo& info = check.info;
  if (info.number_type == "virtual") {
    check.accepted = info.valid;
  } else if (mode == NumberValidation::kValid) {
    check.accepted = info.valid;
  } else if (mode == NumberValidation::kPossible) {
    check.accepted = info.possible;
  } else {
    // Off: any E.164, even one whose country code the metadata does not know.
    if (!info.e164 && info.reason == "INVALID_COUNTRY_CODE" && starts_with_plus(input)) {
      const std::string raw = "+" + digits_of(input);
      if (e164_shaped(raw)) info.e164 = raw;
    }
    check.accepted = info.e164 && e164_shaped(*info.e164);
    if (!check.accepted && info.e164 && !info.reason) {
      info.reason = info.e164->size() - 1 < kMinE164Digits ? "TOO_SHORT" : "TOO_LONG";
    }
  }
  if (!check.accepted) {
    if (!info.reason) info.reason = "INVALID_LENGTH";
    check.problem = problem_sentence(*info.reason);
  }
  return check;
}

std::optional<std::string> normalize_phone(std::string_view input, const std::optional<std::string>& region) {
  const PhoneCheck check = check_phone(input, region, NumberValidation::kOff, {});
  if (!check.accepted) return std::nullopt;
  return check.info.e164;
}

PhoneFacts phone_facts(const std::string& e164, const AllowedPrefixes& allowed) {
  const PhoneInfo info = describe(e164, std::nullopt, allowed, NationalFormat::kSkip);
  return {info.region, info.number_type};
}

std::string display_phone(const std::string& e164) {
  if (is_virtual_phone(e164)) return grouped_virtual(e164);
  if (auto cached = display_cache().find(e164)) return *cached;
  PhoneNumber number;
  if (util().Parse(e164, "ZZ", &number) != PhoneNumberUtil::NO_PARSING_ERROR) return e164;
  std::string text;
  util().Format(number, PhoneNumberUtil::INTERNATIONAL, &text);
  display_cache().put(e164, text);
  return text;
}

std::string phone_metadata_version() { return COBINAR_PHONENUMBER_METADATA; }

}  // namespace core
