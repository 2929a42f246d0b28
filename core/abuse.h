// Abuse controls of the per-application policy (SPEC §17): country and number-type rules, a
// safe list, a daily send budget and the conversion-rate breaker per destination prefix.
// Reading and writing the policy fields, the pure rules, and BreakerBook: the exact sliding
// window of sends and verifications per (application, prefix), used by the live server on
// SQLite (core/abuse_guard.cpp) and by the what-if replay on both engines.
// Value types and pure functions are thread-safe; a BreakerBook is not (its owner locks).
#pragma once

#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/validation.h"

namespace core {

struct ConversionBreaker {
  bool enabled = true;
  int prefix_length = 6;       // digits after '+'
  int window_seconds = 3600;
  int min_sends = 20;
  double min_conversion = 0.2;
  int block_seconds = 43200;
};

struct AbusePolicy {
  std::optional<std::vector<std::string>> allowed_countries;  // nullopt: every region
  std::vector<std::string> blocked_countries;
  std::optional<std::vector<std::string>> allowed_number_types;  // nullopt: every type
  std::vector<std::string> blocked_number_types{"premium_rate", "shared_cost"};
  std::optional<long long> daily_send_limit;
  std::vector<std::string> safe_list;  // E.164 numbers or prefixes: '+' and 1–15 digits
  ConversionBreaker breaker;
};

// Reads the abuse fields of a policy body into `policy` (fields left out or null keep the
// value `policy` already holds), reporting bad ones to `fields`.
void read_abuse_policy(const nlohmann::json& body, AbusePolicy& policy, FieldReader& fields);
// Adds the abuse fields to a policy's JSON (as stored and as answered).
void add_abuse_fields(nlohmann::json& out, const AbusePolicy& policy);

enum class BlockRule { kCountry, kNumberType, kConversionBreaker, kDailyBudget };
std::string_view block_rule_name(BlockRule rule);
constexpr BlockRule kBlockRules[] = {BlockRule::kCountry, BlockRule::kNumberType, BlockRule::kConversionBreaker,
                                     BlockRule::kDailyBudget};

// True when a number or prefix of the safe list starts `e164`.
bool safe_listed(const AbusePolicy& policy, std::string_view e164);
// The country or number-type rule that refuses a number of `region` and `number_type`, if any.
std::optional<BlockRule> fixed_rule_refusal(const AbusePolicy& policy, const std::optional<std::string>& region,
                                            const std::string& number_type);
// '+' and the first `length` digits of an E.164 number (the whole number when it is shorter).
std::string breaker_prefix(std::string_view e164, int length);
// True when `sends` accepted sends with `verified` verifications trip the breaker.
bool breaker_trips(const ConversionBreaker& breaker, long long sends, long long verified);
// The start of the UTC day after `now`: when a daily budget refills.
TimePoint next_utc_midnight(TimePoint now);

// An open or past block of a prefix by the breaker, with the figures that tripped it.
struct PrefixBlock {
  std::string prefix;
  long long sends = 0;
  long long verified = 0;
  TimePoint blocked_at{};
  TimePoint reopens_at{};
};

// What the breaker and the daily budget say of one send.
struct Admission {
  std::optional<BlockRule> refused;  // kConversionBreaker or kDailyBudget; nullopt: accepted
  std::optional<PrefixBlock> block;  // the breaker's block (refused by the breaker)
  bool tripped = false;              // this send opened the block
  long long daily_limit = 0;         // refused by the budget
};

// Accepted sends per (application, prefix) in the breaker's sliding window and whether each is
// verified by now, open blocks, and accepted sends per application per UTC day. Exact; memory
// is proportional to the sends inside the windows. Not thread-safe.
class BreakerBook {
 public:
  // `days_known`: the daily counts start complete (a replay of the whole history). Otherwise an
  // application's count of the day it was first seen is unknown until set_daily_sends.
  explicit BreakerBook(bool days_known = false) : days_known_(days_known) {}
  // Judges a send (unless `judge` is false: a safe-listed number) and records it when accepted.
  Admission admit(const std::string& app_id, const std::string& prefix, std::string_view request_id,
                  const AbusePolicy& policy, TimePoint now, bool judge = true);
  // Takes back an accepted send that was refused later (a rate limit, a locked phone).
  void cancel(const std::string& app_id, const std::string& prefix, std::string_view request_id, TimePoint sent_at);
  // Marks an accepted send verified (nothing if it left the window).
  void verified(const std::string& app_id, const std::string& prefix, std::string_view request_id);
  // The send admitted as `admission_id` is the request `request_id` (made once it is stored).
  void rename(const std::string& app_id, const std::string& prefix, std::string_view admission_id,
              std::string_view request_id);
  // A block lifted by hand at `now`: the prefix is judged again on sends accepted after it.
  void lift(const std::string& app_id, const std::string& prefix, TimePoint now);
  // Puts back a stored block (at start-up).
  void restore_block(const std::string& app_id, const PrefixBlock& block);
  // Whether the accepted sends of `app_id` on the UTC day of `now` are all counted: a day the
  // book saw begin, or one set with set_daily_sends.
  bool daily_known(const std::string& app_id, TimePoint now) const;
  void set_daily_sends(const std::string& app_id, TimePoint now, long long sends);
  std::size_t tracked_prefixes() const { return prefixes_.size(); }

 private:
  struct Send {
    TimePoint at;
    std::uint64_t request = 0;
    bool verified = false;
  };
  struct PrefixState {
    std::deque<Send> sends;
    long long verified = 0;  // among `sends`
    TimePoint judged_from{};
    std::optional<PrefixBlock> block;
    std::chrono::seconds window{3600};
  };
  struct Day {
    long long day = 0;
    long long sends = 0;
    bool known = false;
  };
  static std::string key(const std::string& app_id, const std::string& prefix) { return app_id + "|" + prefix; }
  static void forget_before(PrefixState& state, TimePoint cutoff);
  void sweep(TimePoint now);

  std::unordered_map<std::string, PrefixState> prefixes_;
  std::unordered_map<std::string, Day> days_;
  bool days_known_ = false;
  TimePoint last_sweep_{};
};

// One accepted, non-exempt send of the history, as the what-if replay reads it.
struct PastSend {
  std::string request_id;
  std::string phone;
  std::optional<std::string> region;
  std::string number_type;
  TimePoint sent_at{};
  std::optional<TimePoint> verified_at;
};

struct SimulationResult {
  long long sends = 0;
  long long blocked[4] = {0, 0, 0, 0};  // by BlockRule
  long long verified_blocked = 0;
  std::vector<std::pair<std::string, TimePoint>> prefixes_blocked;  // prefix, the send that tripped it
};

// Replays past sends (in time order; a verification counts from its verified_at) against a
// proposed policy. Feed sends with add() in order of sent_at, then call finish().
class AbuseSimulation {
 public:
  explicit AbuseSimulation(AbusePolicy policy) : policy_(std::move(policy)) {}
  void add(const PastSend& send);
  SimulationResult finish();

 private:
  void verifications_until(TimePoint t);

  AbusePolicy policy_;
  BreakerBook book_{true};
  SimulationResult result_;
  // Verifications still to come: (verified_at, prefix, request id) of accepted sends.
  std::vector<std::tuple<TimePoint, std::string, std::string>> pending_;  // a min-heap on time
};

}  // namespace core
