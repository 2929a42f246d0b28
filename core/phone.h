// Phone numbers (SPEC §1): normalisation to E.164 and the grouped display form. Pure
// functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace core {

// "+999 (482) 918-102" → "+999482918102"; nullopt unless it is '+' then 8–15 digits with a
// country code not starting with 0. Spaces, dashes, dots and parentheses are allowed.
std::optional<std::string> normalize_phone(std::string_view input);
// Why normalize_phone refused `input`, for the 400 message.
std::string phone_problem(std::string_view input);

// Length (1–3) of the ITU country calling code at the start of E.164 digits (after '+').
std::size_t country_code_length(std::string_view digits);

// "+999482918102" → "+999 482 918 102".
std::string display_phone(const std::string& e164);

// Numbers under +999 are virtual: delivered to the server's inbox, never to a gateway.
inline bool is_virtual_phone(std::string_view e164) { return e164.starts_with("+999"); }

}  // namespace core
