// Phone numbers (SPEC §1, §14): the one parser every place that takes a phone goes through,
// backed by libphonenumber's metadata. Numbers under +999 are virtual and never looked up.
// Pure functions over immutable metadata; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core {

// How strictly a send checks a number (the policy's numberValidation).
enum class NumberValidation { kValid, kPossible, kOff };

std::optional<NumberValidation> parse_number_validation(std::string_view name);
std::string number_validation_name(NumberValidation mode);

// E.164 prefixes (`+4477009`) under which every number counts as valid whatever the metadata
// says (--phone-allow-prefix), so a new numbering range never blocks users.
using AllowedPrefixes = std::vector<std::string>;

// What the metadata says of one input. `e164` is nullopt when the input cannot be read as a
// number at all; `reason` is nullopt exactly when `valid`.
struct PhoneInfo {
  std::optional<std::string> e164;
  bool valid = false;
  bool possible = false;
  std::optional<std::string> reason;  // NOT_A_NUMBER, INVALID_COUNTRY_CODE, TOO_SHORT, TOO_LONG, INVALID_LENGTH, INVALID_FOR_REGION
  std::optional<std::string> region;  // ISO 3166-1 alpha-2; nullopt for non-geographic or unknown
  int country_code = 0;
  std::string number_type = "unknown";  // mobile, fixed_line, …, unknown, virtual
  std::optional<std::string> national_format;
  std::optional<std::string> international_format;
};

// A region code as given on the wire: two ASCII letters, any case → upper case; else nullopt.
std::optional<std::string> parse_region_code(std::string_view text);
// True when libphonenumber has a numbering plan for the (upper-case) region.
bool is_supported_region(const std::string& region);

// The whole answer of the offline lookup. A number without '+' is read in `region`'s national
// format; with no region it is INVALID_COUNTRY_CODE.
PhoneInfo describe_phone(std::string_view input, const std::optional<std::string>& region,
                         const AllowedPrefixes& allowed = {});

// What a send accepts under `mode`: the described number when it passes, else the described
// number with its reason (the caller refuses it). `accepted` is set only on success.
struct PhoneCheck {
  PhoneInfo info;
  bool accepted = false;
  std::string problem;  // a sentence for details.fields.phone when refused
};
PhoneCheck check_phone(std::string_view input, const std::optional<std::string>& region, NumberValidation mode,
                       const AllowedPrefixes& allowed);

// Lenient reading for lookups and filters (users, inbox, path parameters): any input a send
// could have accepted, as E.164; nullopt when it is not a number even under numberValidation off.
std::optional<std::string> normalize_phone(std::string_view input, const std::optional<std::string>& region = std::nullopt);

// Region and type of a stored E.164 number (for rows written before they were recorded).
struct PhoneFacts {
  std::optional<std::string> region;
  std::string number_type;
};
PhoneFacts phone_facts(const std::string& e164, const AllowedPrefixes& allowed = {});

// The display form: the international format of the number's region (`+44 7911 123456`,
// `+1 415-555-2671`); virtual numbers in groups of three (`+999 482 918 102`).
std::string display_phone(const std::string& e164);

// Numbers under +999 are virtual: delivered to the server's inbox, never to a gateway.
inline bool is_virtual_phone(std::string_view e164) { return e164.starts_with("+999"); }

// The metadata version libphonenumber was built with (Debian's libphonenumber-dev version).
std::string phone_metadata_version();

}  // namespace core
