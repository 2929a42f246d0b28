#include "core/abuse.h"

#include <algorithm>
#include <sodium.h>

#include "core/phone.h"

namespace core {

namespace {

constexpr std::size_t kMaxSafeList = 1000;
constexpr std::size_t kMaxListEntries = 300;
constexpr std::chrono::seconds kLongestWindow{86400};
constexpr std::chrono::seconds kSweepEvery{60};

const std::vector<std::string>& number_type_names() {
  static const std::vector<std::string> names = {
      "mobile",  "fixed_line", "fixed_line_or_mobile", "toll_free", "premium_rate", "shared_cost", "voip",
      "personal_number", "pager", "uan", "voicemail", "unknown", "virtual"};
  return names;
}

bool absent(const nlohmann::json& body, const char* name) { return !body.contains(name) || body[name].is_null(); }

// A list of region codes, upper-cased; nullopt (with a problem) when any entry is bad.
std::optional<std::vector<std::string>> read_regions(const nlohmann::json& value, const char* name,
                                                     FieldReader& fields) {
  const std::string problem = "must be an array of ISO 3166-1 alpha-2 region codes (such as GB)";
  if (!value.is_array() || value.size() > kMaxListEntries) {
    fields.reject(name, problem);
    return std::nullopt;
  }
  std::vector<std::string> regions;
  for (const auto& entry : value) {
    const auto region = entry.is_string() ? parse_region_code(entry.get<std::string>()) : std::nullopt;
    if (!region || !is_supported_region(*region)) {
      fields.reject(name, problem + "; " + (entry.is_string() ? entry.get<std::string>() : entry.dump()) +
                              " is not one");
      return std::nullopt;
    }
    if (std::find(regions.begin(), regions.end(), *region) == regions.end()) regions.push_back(*region);
  }
  return regions;
}

std::optional<std::vector<std::string>> read_types(const nlohmann::json& value, const char* name,
                                                   FieldReader& fields) {
  const auto& names = number_type_names();
  std::string known;
  for (const auto& type : names) known += (known.empty() ? "" : ", ") + type;
  if (!value.is_array() || value.size() > names.size() * 2) {
    fields.reject(name, "must be an array of number types: " + known);
    return std::nullopt;
  }
  std::vector<std::string> types;
  for (const auto& entry : value) {
    if (!entry.is_string() || std::find(names.begin(), names.end(), entry.get<std::string>()) == names.end()) {
      fields.reject(name, "must be an array of number types: " + known);
      return std::nullopt;
    }
    if (std::find(types.begin(), types.end(), entry.get<std::string>()) == types.end()) {
      types.push_back(entry.get<std::string>());
    }
  }
  return types;
}

bool is_e164_prefix(std::string_view text) {
  if (text.size() < 2 || text.size() > 16 || text[0] != '+' || text[1] == '0') return false;
  return text.substr(1).find_first_not_of("0123456789") == std::string_view::npos;
}

void read_safe_list(const nlohmann::json& value, AbusePolicy& policy, FieldReader& fields) {
  const char* problem = "must be an array of at most 1000 E.164 numbers or prefixes ('+' and 1 to 15 digits)";
  if (!value.is_array() || value.size() > kMaxSafeList) {
    fields.reject("safeList", problem);
    return;
  }
  std::vector<std::string> list;
  for (const auto& entry : value) {
    if (!entry.is_string() || !is_e164_prefix(entry.get<std::string>())) {
      fields.reject("safeList", problem);
      return;
    }
    if (std::find(list.begin(), list.end(), entry.get<std::string>()) == list.end()) list.push_back(entry.get<std::string>());
  }
  policy.safe_list = std::move(list);
}

void read_int_field(const nlohmann::json& body, const char* name, long long min, long long max, int& out,
                    FieldReader& fields, const std::string& path) {
  if (absent(body, name)) return;
  const auto& value = body[name];
  if (!value.is_number_integer() || value.get<long long>() < min || value.get<long long>() > max) {
    fields.reject(path + name, "must be an integer between " + std::to_string(min) + " and " + std::to_string(max));
    return;
  }
  out = static_cast<int>(value.get<long long>());
}

void read_breaker(const nlohmann::json& value, AbusePolicy& policy, FieldReader& fields) {
  if (!value.is_object()) {
    fields.reject("conversionBreaker", "must be an object (fields left out take their defaults)");
    return;
  }
  ConversionBreaker breaker;  // fields left out take the defaults, not the previous values
  const std::string path = "conversionBreaker.";
  if (!absent(value, "enabled")) {
    if (value["enabled"].is_boolean()) {
      breaker.enabled = value["enabled"].get<bool>();
    } else {
      fields.reject(path + "enabled", "must be true or false");
    }
  }
  read_int_field(value, "prefixLength", 2, 15, breaker.prefix_length, fields, path);
  read_int_field(value, "windowSeconds", 60, 86400, breaker.window_seconds, fields, path);
  read_int_field(value, "minSends", 1, 100000, breaker.min_sends, fields, path);
  read_int_field(value, "blockSeconds", 60, 604800, breaker.block_seconds, fields, path);
  if (!absent(value, "minConversion")) {
    const auto& ratio = value["minConversion"];
    if (ratio.is_number() && ratio.get<double>() >= 0 && ratio.get<double>() <= 1) {
      breaker.min_conversion = ratio.get<double>();
    } else {
      fields.reject(path + "minConversion", "must be a number between 0 and 1");
    }
  }
  policy.breaker = breaker;  // unknown fields are ignored, as at the policy's top level
}

bool type_matches(const std::vector<std::string>& list, const std::string& number_type) {
  for (const auto& entry : list) {
    if (entry == number_type) return true;
    // Most US and CA numbers cannot be told apart: an entry for either kind covers them.
    if (number_type == "fixed_line_or_mobile" && (entry == "mobile" || entry == "fixed_line")) return true;
  }
  return false;
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::uint64_t request_hash(std::string_view request_id) {
  std::uint64_t hash = 0;
  static const unsigned char kKey[crypto_shorthash_KEYBYTES] = {};
  crypto_shorthash(reinterpret_cast<unsigned char*>(&hash), reinterpret_cast<const unsigned char*>(request_id.data()),
                   request_id.size(), kKey);
  return hash;
}

long long utc_day(TimePoint t) {
  return std::chrono::floor<std::chrono::days>(t).time_since_epoch().count();
}

}  // namespace

namespace {

using ListReader = std::optional<std::vector<std::string>> (*)(const nlohmann::json&, const char*, FieldReader&);

// An allow-list: null (everything allowed) or a non-empty list read by `read`.
void read_allow_list(const nlohmann::json& body, const char* name, const char* everything, ListReader read,
                     std::optional<std::vector<std::string>>& out, FieldReader& fields) {
  if (!body.contains(name)) return;
  const auto& value = body[name];
  if (value.is_null()) {
    out.reset();
  } else if (value.is_array() && value.empty()) {
    fields.reject(name, std::string("must not be empty: use null to allow every ") + everything);
  } else if (auto list = read(value, name, fields)) {
    out = std::move(list);
  }
}

// A block-list: left out or null keeps the value; otherwise a list read by `read`.
void read_block_list(const nlohmann::json& body, const char* name, ListReader read, std::vector<std::string>& out,
                     FieldReader& fields) {
  if (absent(body, name)) return;
  if (auto list = read(body[name], name, fields)) out = std::move(*list);
}

}  // namespace

void read_abuse_policy(const nlohmann::json& body, AbusePolicy& policy, FieldReader& fields) {
  read_allow_list(body, "allowedCountries", "country", read_regions, policy.allowed_countries, fields);
  read_block_list(body, "blockedCountries", read_regions, policy.blocked_countries, fields);
  read_allow_list(body, "allowedNumberTypes", "number type", read_types, policy.allowed_number_types, fields);
  read_block_list(body, "blockedNumberTypes", read_types, policy.blocked_number_types, fields);
  if (body.contains("dailySendLimit")) {
    const auto& value = body["dailySendLimit"];
    if (value.is_null()) {
      policy.daily_send_limit.reset();
    } else if (value.is_number_integer() && value.get<long long>() >= 1 && value.get<long long>() <= 1'000'000'000) {
      policy.daily_send_limit = value.get<long long>();
    } else {
      fields.reject("dailySendLimit", "must be null or an integer between 1 and 1000000000");
    }
  }
  if (!absent(body, "safeList")) read_safe_list(body["safeList"], policy, fields);
  if (!absent(body, "conversionBreaker")) read_breaker(body["conversionBreaker"], policy, fields);
}

void add_abuse_fields(nlohmann::json& out, const AbusePolicy& policy) {
  const auto& breaker = policy.breaker;
  out["allowedCountries"] = policy.allowed_countries ? nlohmann::json(*policy.allowed_countries) : nlohmann::json(nullptr);
  out["blockedCountries"] = policy.blocked_countries;
  out["allowedNumberTypes"] =
      policy.allowed_number_types ? nlohmann::json(*policy.allowed_number_types) : nlohmann::json(nullptr);
  out["blockedNumberTypes"] = policy.blocked_number_types;
  out["dailySendLimit"] = policy.daily_send_limit ? nlohmann::json(*policy.daily_send_limit) : nlohmann::json(nullptr);
  out["safeList"] = policy.safe_list;
  out["conversionBreaker"] = {{"enabled", breaker.enabled},
                              {"prefixLength", breaker.prefix_length},
                              {"windowSeconds", breaker.window_seconds},
                              {"minSends", breaker.min_sends},
                              {"minConversion", breaker.min_conversion},
                              {"blockSeconds", breaker.block_seconds}};
}

std::string_view block_rule_name(BlockRule rule) {
  switch (rule) {
    case BlockRule::kCountry: return "country";
    case BlockRule::kNumberType: return "number_type";
    case BlockRule::kConversionBreaker: return "conversion_breaker";
    case BlockRule::kDailyBudget: return "daily_budget";
  }
  return "country";
}

bool safe_listed(const AbusePolicy& policy, std::string_view e164) {
  return std::any_of(policy.safe_list.begin(), policy.safe_list.end(),
                     [&](const std::string& entry) { return e164.starts_with(entry); });
}

std::optional<BlockRule> fixed_rule_refusal(const AbusePolicy& policy, const std::optional<std::string>& region,
                                            const std::string& number_type) {
  if (policy.allowed_countries && (!region || !contains(*policy.allowed_countries, *region))) return BlockRule::kCountry;
  if (region && contains(policy.blocked_countries, *region)) return BlockRule::kCountry;
  if (policy.allowed_number_types && !type_matches(*policy.allowed_number_types, number_type)) {
    return BlockRule::kNumberType;
  }
  if (type_matches(policy.blocked_number_types, number_type)) return BlockRule::kNumberType;
  return std::nullopt;
}

std::string breaker_prefix(std::string_view e164, int length) {
  const std::string_view digits = e164.starts_with('+') ? e164.substr(1) : e164;
  return "+" + std::string(digits.substr(0, std::min(digits.size(), static_cast<std::size_t>(length))));
}

bool breaker_trips(const ConversionBreaker& breaker, long long sends, long long verified) {
  if (!breaker.enabled || sends < breaker.min_sends || sends == 0) return false;
  return static_cast<double>(verified) < breaker.min_conversion * static_cast<double>(sends);
}

TimePoint next_utc_midnight(TimePoint now) {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::floor<std::chrono::days>(now) +
                                                                 std::chrono::days(1));
}

// --- BreakerBook ---------------------------------------------------------------------------------

void BreakerBook::forget_before(PrefixState& state, TimePoint cutoff) {
  while (!state.sends.empty() && state.sends.front().at <= cutoff) {
    if (state.sends.front().verified) --state.verified;
    state.sends.pop_front();
  }
}

Admission BreakerBook::admit(const std::string& app_id, const std::string& prefix, std::string_view request_id,
                             const AbusePolicy& policy, TimePoint now, bool judge) {
  sweep(now);
  Admission admission;
  const auto& breaker = policy.breaker;
  PrefixState* state = nullptr;
  if (breaker.enabled) {
    state = &prefixes_[key(app_id, prefix)];
    state->window = std::chrono::seconds(breaker.window_seconds);
    if (state->block && state->block->reopens_at <= now) {
      // Reopened: judged only on the sends accepted from now on.
      state->judged_from = state->block->reopens_at;
      state->block.reset();
    }
    forget_before(*state, std::max(now - state->window, state->judged_from - std::chrono::milliseconds(1)));
    if (judge && state->block) {
      admission.refused = BlockRule::kConversionBreaker;
      admission.block = state->block;
      return admission;
    }
    const auto sends = static_cast<long long>(state->sends.size());
    if (judge && breaker_trips(breaker, sends, state->verified)) {
      state->block = PrefixBlock{prefix, sends, state->verified, now, now + std::chrono::seconds(breaker.block_seconds)};
      admission.refused = BlockRule::kConversionBreaker;
      admission.block = state->block;
      admission.tripped = true;
      return admission;
    }
  }
  const auto [found, first_seen] = days_.try_emplace(app_id);
  Day& day = found->second;
  // A day that began while the book was counting is complete; the first day of an application
  // the book never saw is not (its earlier sends happened before this process).
  if (day.day != utc_day(now)) day = Day{utc_day(now), 0, days_known_ || !first_seen};
  if (judge && policy.daily_send_limit && day.sends >= *policy.daily_send_limit) {
    admission.refused = BlockRule::kDailyBudget;
    admission.daily_limit = *policy.daily_send_limit;
    return admission;
  }
  ++day.sends;
  if (state != nullptr) state->sends.push_back(Send{now, request_hash(request_id), false});
  return admission;
}

void BreakerBook::cancel(const std::string& app_id, const std::string& prefix, std::string_view request_id,
                         TimePoint sent_at) {
  if (auto day = days_.find(app_id); day != days_.end() && day->second.day == utc_day(sent_at) && day->second.sends > 0) {
    --day->second.sends;
  }
  const auto found = prefixes_.find(key(app_id, prefix));
  if (found == prefixes_.end()) return;
  auto& sends = found->second.sends;
  const std::uint64_t hash = request_hash(request_id);
  for (auto it = sends.rbegin(); it != sends.rend(); ++it) {
    if (it->request != hash) continue;
    if (it->verified) --found->second.verified;
    sends.erase(std::next(it).base());
    return;
  }
}

void BreakerBook::verified(const std::string& app_id, const std::string& prefix, std::string_view request_id) {
  const auto found = prefixes_.find(key(app_id, prefix));
  if (found == prefixes_.end()) return;
  const std::uint64_t hash = request_hash(request_id);
  // Codes are verified minutes after they are sent at most: the newest sends come first.
  for (auto it = found->second.sends.rbegin(); it != found->second.sends.rend(); ++it) {
    if (it->request != hash) continue;
    if (!it->verified) {
      it->verified = true;
      ++found->second.verified;
    }
    return;
  }
}

void BreakerBook::rename(const std::string& app_id, const std::string& prefix, std::string_view admission_id,
                         std::string_view request_id) {
  const auto found = prefixes_.find(key(app_id, prefix));
  if (found == prefixes_.end()) return;
  const std::uint64_t old_hash = request_hash(admission_id);
  for (auto it = found->second.sends.rbegin(); it != found->second.sends.rend(); ++it) {
    if (it->request != old_hash) continue;
    it->request = request_hash(request_id);
    return;
  }
}

void BreakerBook::lift(const std::string& app_id, const std::string& prefix, TimePoint now) {
  PrefixState& state = prefixes_[key(app_id, prefix)];
  state.block.reset();
  state.judged_from = now;
  state.sends.clear();
  state.verified = 0;
}

void BreakerBook::restore_block(const std::string& app_id, const PrefixBlock& block) {
  PrefixState& state = prefixes_[key(app_id, block.prefix)];
  if (state.block && state.block->blocked_at >= block.blocked_at) return;
  state.block = block;
  forget_before(state, block.blocked_at);
}

bool BreakerBook::daily_known(const std::string& app_id, TimePoint now) const {
  const auto found = days_.find(app_id);
  if (found == days_.end()) return days_known_;
  return found->second.day != utc_day(now) || found->second.known;
}

void BreakerBook::set_daily_sends(const std::string& app_id, TimePoint now, long long sends) {
  days_[app_id] = Day{utc_day(now), sends, true};
}

void BreakerBook::sweep(TimePoint now) {
  if (now - last_sweep_ < kSweepEvery) return;
  last_sweep_ = now;
  for (auto it = prefixes_.begin(); it != prefixes_.end();) {
    PrefixState& state = it->second;
    forget_before(state, now - state.window);
    const bool block_matters = state.block && state.block->reopens_at + kLongestWindow > now;
    const bool judged_recently = state.judged_from + kLongestWindow > now;
    it = (state.sends.empty() && !block_matters && !judged_recently) ? prefixes_.erase(it) : std::next(it);
  }
  for (auto it = days_.begin(); it != days_.end();) it = it->second.day < utc_day(now) ? days_.erase(it) : std::next(it);
}

// --- AbuseSimulation ----------------------------------------------------------------------------

namespace {
bool later(const std::tuple<TimePoint, std::string, std::string>& a,
           const std::tuple<TimePoint, std::string, std::string>& b) {
  return std::get<0>(a) > std::get<0>(b);
}
constexpr char kSimulatedApp[] = "simulation";
}  // namespace

void AbuseSimulation::verifications_until(TimePoint t) {
  while (!pending_.empty() && std::get<0>(pending_.front()) <= t) {
    std::pop_heap(pending_.begin(), pending_.end(), later);
    const auto& [at, prefix, request_id] = pending_.back();
    book_.verified(kSimulatedApp, prefix, request_id);
    pending_.pop_back();
  }
}

void AbuseSimulation::add(const PastSend& send) {
  // A verification at the same instant as a send counts before it, as it would have.
  verifications_until(send.sent_at);
  ++result_.sends;
  const std::string prefix = breaker_prefix(send.phone, policy_.breaker.prefix_length);
  const bool safe = safe_listed(policy_, send.phone);
  std::optional<BlockRule> refused = safe ? std::nullopt : fixed_rule_refusal(policy_, send.region, send.number_type);
  if (!refused) {
    const Admission admission = book_.admit(kSimulatedApp, prefix, send.request_id, policy_, send.sent_at, !safe);
    refused = admission.refused;
    if (admission.tripped) result_.prefixes_blocked.emplace_back(prefix, send.sent_at);
  }
  if (refused) {
    ++result_.blocked[static_cast<int>(*refused)];
    if (send.verified_at) ++result_.verified_blocked;
    return;
  }
  if (send.verified_at) {
    pending_.emplace_back(*send.verified_at, prefix, send.request_id);
    std::push_heap(pending_.begin(), pending_.end(), later);
  }
}

SimulationResult AbuseSimulation::finish() { return result_; }

}  // namespace core
