// Message and request templates with {name} placeholders, each value escaped for where it
// lands (URL, form body, JSON string, header, plain text). Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace core {

enum class Escape { kNone, kUrl, kForm, kJsonString, kHeader };

// Replaces {name} for every name in `values`; unknown placeholders are left as written.
std::string expand_template(std::string_view text, const std::map<std::string, std::string>& values, Escape escape);

std::string url_encode(std::string_view text);
std::string form_encode(std::string_view text);

}  // namespace core
