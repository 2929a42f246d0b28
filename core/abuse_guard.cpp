#include "core/abuse_guard.h"

#include <cstdio>
#include <limits>
#include <unordered_map>

#include "core/phone.h"
#include "storage/abuse.h"
#include "storage/applications.h"
#include "storage/locks.h"

namespace core {

namespace {

constexpr std::chrono::hours kLongestWindow{24};
constexpr int kHistoryChunk = 5000;

PrefixBlock block_of(const storage::abuse::BlockRow& row) {
  return PrefixBlock{row.prefix, row.sends, row.verified, parse_timestamp(row.blocked_at).value_or(TimePoint{}),
                     parse_timestamp(row.reopens_at).value_or(TimePoint{})};
}

storage::abuse::BlockRow row_of(const std::string& app_id, const PrefixBlock& block) {
  return {app_id, block.prefix, block.sends, block.verified, format_timestamp(block.blocked_at),
          format_timestamp(block.reopens_at)};
}

std::string utc_day_text(TimePoint t) { return format_timestamp(t).substr(0, 10); }

}  // namespace

std::string first_id_at(TimePoint t) {
  const auto ms = static_cast<unsigned long long>(t.time_since_epoch().count());
  char text[16];
  std::snprintf(text, sizeof text, "%08llx-%04llx", (ms >> 16) & 0xffffffffULL, ms & 0xffffULL);
  return text;
}

// Where the counts live: in memory (SQLite) or in the shared tables (PostgreSQL).
class AbuseGuard::Ledger {
 public:
  virtual ~Ledger() = default;
  virtual Admission admit(const Application& app, const AbusePolicy& policy, const std::string& prefix,
                          const std::string& request_id, TimePoint now, bool judge) = 0;
  virtual void cancel(const AbuseTicket& ticket) = 0;
  virtual void stored(storage::Connection& c, const AbuseTicket& ticket, const std::string& request_id) = 0;
  virtual void verified(storage::Connection& c, const std::string& app_id, const std::string& prefix,
                        const std::string& request_id) = 0;
  virtual void lifted(const std::string& app_id, const std::string& prefix, TimePoint now) = 0;
};

namespace {

// SQLite: one process owns the file, so the counts are a BreakerBook behind a mutex.
class MemoryLedger : public AbuseGuard::Ledger {
 public:
  explicit MemoryLedger(storage::Store& store) : store_(store) {}

  Admission admit(const Application& app, const AbusePolicy& policy, const std::string& prefix,
                  const std::string& request_id, TimePoint now, bool judge) override {
    if (policy.daily_send_limit && !daily_known(app.id, now)) {
      // The first budgeted send of a day this process did not see begin: count the day's
      // stored sends once, on a reader, outside the lock.
      const long long today = store_.read([&](storage::Connection& c) {
        return storage::abuse::count_sends_from(c, app.id, first_id_at(std::chrono::floor<std::chrono::days>(now)));
      });
      std::lock_guard lock(mutex_);
      if (!book_.daily_known(app.id, now)) book_.set_daily_sends(app.id, now, today);
    }
    std::lock_guard lock(mutex_);
    return book_.admit(app.id, prefix, request_id, policy, now, judge);
  }
  void cancel(const AbuseTicket& ticket) override {
    std::lock_guard lock(mutex_);
    book_.cancel(ticket.app_id, ticket.prefix, ticket.request_id, ticket.sent_at);
  }
  void stored(storage::Connection&, const AbuseTicket& ticket, const std::string& request_id) override {
    std::lock_guard lock(mutex_);
    book_.rename(ticket.app_id, ticket.prefix, ticket.request_id, request_id);
  }
  void verified(storage::Connection&, const std::string& app_id, const std::string& prefix,
                const std::string& request_id) override {
    // A verify job rolls back only when the disk fails; counting it verified then is harmless.
    std::lock_guard lock(mutex_);
    book_.verified(app_id, prefix, request_id);
  }
  void lifted(const std::string& app_id, const std::string& prefix, TimePoint now) override {
    std::lock_guard lock(mutex_);
    book_.lift(app_id, prefix, now);
  }

  bool daily_known(const std::string& app_id, TimePoint now) {
    std::lock_guard lock(mutex_);
    return book_.daily_known(app_id, now);
  }

  // The accepted, non-exempt sends the counts need and the blocks that still matter, read on a
  // reader connection in chunks before the server answers.
  void restore(storage::Store& store, TimePoint now, const OtpPolicy& defaults) {
    std::lock_guard lock(mutex_);
    for (const auto& row : store.read([&](storage::Connection& c) {
           return storage::abuse::blocks_since(c, format_timestamp(now - kLongestWindow));
         })) {
      book_.restore_block(row.app_id, block_of(row));
    }
    // Live applications only (a test application's sends are exempt), each its own key range.
    const auto apps = store.read([](storage::Connection& c) { return storage::abuse::live_application_ids(c); });
    for (const auto& app_id : apps) {
      const auto app = store.read([&](storage::Connection& c) { return storage::applications::find_any(c, app_id); });
      if (!app) continue;
      const AbusePolicy policy = app->policy ? stored_policy(*app->policy, defaults).abuse : defaults.abuse;
      // The breaker needs its window; the budget counts the day when a budgeted send needs it.
      if (!policy.breaker.enabled) continue;
      std::string after = first_id_at(now - std::chrono::seconds(policy.breaker.window_seconds));
      for (;;) {
        const auto rows = store.read(
            [&](storage::Connection& c) { return storage::abuse::sends_after(c, app_id, after, kHistoryChunk); });
        for (const auto& row : rows) {
          const std::string prefix = breaker_prefix(row.phone, policy.breaker.prefix_length);
          book_.admit(app_id, prefix, row.id, policy, parse_timestamp(row.created_at).value_or(now), false);
          if (row.verified_at) book_.verified(app_id, prefix, row.id);
        }
        if (rows.size() < static_cast<std::size_t>(kHistoryChunk)) break;
        after = rows.back().id;
      }
    }
  }

 private:
  storage::Store& store_;
  std::mutex mutex_;
  BreakerBook book_;
};

// PostgreSQL: every node counts in the same tables, under a lock per (application, prefix) and
// one per application's budget; one short transaction per send that does not wait for its flush
// unless it opens a block (an answered state).
class SharedLedger : public AbuseGuard::Ledger {
 public:
  explicit SharedLedger(storage::Store& store) : store_(store) {}

  Admission admit(const Application& app, const AbusePolicy& policy, const std::string& prefix,
                  const std::string& request_id, TimePoint now, bool judge) override {
    const auto& breaker = policy.breaker;
    const std::string now_text = format_timestamp(now);
    return store_.write([&](storage::Connection& c) {
      Admission admission;
      if (breaker.enabled) {
        storage::abuse::lock_without_flush(c, "breaker:" + app.id + "|" + prefix);
      } else {
        c.exec("SET LOCAL synchronous_commit = off");
      }
      if (breaker.enabled && judge) {
        const std::string window_start =
            format_timestamp(now - std::chrono::seconds(breaker.window_seconds) + std::chrono::milliseconds(1));
        const auto judged = storage::abuse::judge(c, app.id, prefix, window_start);
        if (judged.block && judged.block->reopens_at > now_text) {
          admission.refused = BlockRule::kConversionBreaker;
          admission.block = block_of(*judged.block);
          return admission;
        }
        if (breaker_trips(breaker, judged.sends, judged.verified)) {
          admission.refused = BlockRule::kConversionBreaker;
          admission.block = PrefixBlock{prefix, judged.sends, judged.verified, now,
                                        now + std::chrono::seconds(breaker.block_seconds)};
          admission.tripped = true;
          c.exec("SET LOCAL synchronous_commit = on");  // an answered state: flushed before the 403
          storage::abuse::put_block(c, row_of(app.id, *admission.block));
          return admission;
        }
      }
      if (policy.daily_send_limit) {
        storage::locks::exclusive(c, "budget:" + app.id);
        const std::string day = utc_day_text(now);
        const long long already =
            storage::abuse::daily_counted(c, app.id, day)
                ? 0
                : storage::abuse::count_sends_from(c, app.id, first_id_at(std::chrono::floor<std::chrono::days>(now)));
        const long long limit = judge ? *policy.daily_send_limit : std::numeric_limits<long long>::max();
        if (!storage::abuse::take_daily(c, app.id, day, limit, already)) {
          admission.refused = BlockRule::kDailyBudget;
          admission.daily_limit = *policy.daily_send_limit;
          return admission;
        }
      }
      if (breaker.enabled) storage::abuse::record_send(c, request_id, app.id, prefix, now_text);
      return admission;
    });
  }

  void cancel(const AbuseTicket& ticket) override {
    store_.write([&](storage::Connection& c) {
      c.exec("SET LOCAL synchronous_commit = off");
      storage::abuse::forget_send(c, ticket.request_id);
      storage::abuse::give_back_daily(c, ticket.app_id, utc_day_text(ticket.sent_at));
    });
  }

  void stored(storage::Connection& c, const AbuseTicket& ticket, const std::string& request_id) override {
    storage::abuse::rename_send(c, ticket.request_id, request_id);
  }

  void verified(storage::Connection& c, const std::string&, const std::string&, const std::string& request_id) override {
    storage::abuse::mark_verified(c, request_id);
  }

  void lifted(const std::string&, const std::string&, TimePoint) override {}  // the block row says it all

 private:
  storage::Store& store_;
};

}  // namespace

AbuseGuard::AbuseGuard(storage::Store& store, const Clock& clock, ApplicationService& applications, OtpPolicy defaults)
    : store_(store), clock_(clock), applications_(applications), defaults_(std::move(defaults)) {
  if (store.engine() == storage::Engine::kPostgres) {
    ledger_ = std::make_unique<SharedLedger>(store);
  } else {
    ledger_ = std::make_unique<MemoryLedger>(store);
  }
}

void AbuseGuard::restore() {
  if (auto* memory = dynamic_cast<MemoryLedger*>(ledger_.get())) memory->restore(store_, clock_.now(), defaults_);
}

AbuseGuard::~AbuseGuard() = default;

AbuseVerdict AbuseGuard::admit(const Application& app, const AbusePolicy& policy, const std::string& e164,
                               const std::string& request_id, TimePoint now, bool judge) {
  AbuseVerdict verdict;
  verdict.ticket = AbuseTicket{app.id, breaker_prefix(e164, policy.breaker.prefix_length), request_id, now, false};
  verdict.admission = ledger_->admit(app, policy, verdict.ticket.prefix, request_id, now, judge);
  verdict.ticket.counted = !verdict.admission.refused;
  return verdict;
}

void AbuseGuard::cancel(const AbuseTicket& ticket) {
  if (ticket.counted) ledger_->cancel(ticket);
}

void AbuseGuard::stored(storage::Connection& c, const AbuseTicket& ticket, const std::string& request_id) {
  if (ticket.counted && ticket.request_id != request_id) ledger_->stored(c, ticket, request_id);
}

void AbuseGuard::opened(storage::Connection& c, const std::string& app_id, const PrefixBlock& block) {
  storage::abuse::put_block(c, row_of(app_id, block));
}

void AbuseGuard::verified(storage::Connection& c, const Application& app, const AbusePolicy& policy,
                          const std::string& phone, const std::string& request_id) {
  if (!policy.breaker.enabled) return;
  ledger_->verified(c, app.id, breaker_prefix(phone, policy.breaker.prefix_length), request_id);
}

Result<std::vector<PrefixBlock>> AbuseGuard::blocks(const Developer& owner, const std::string& app_id) {
  auto app = applications_.get(owner, app_id);
  if (!app.ok()) return app.error();
  const std::string now = format_timestamp(clock_.now());
  std::vector<PrefixBlock> blocks;
  for (const auto& row : store_.read([&](storage::Connection& c) { return storage::abuse::open_blocks(c, app_id, now); })) {
    blocks.push_back(block_of(row));
  }
  return blocks;
}

Status AbuseGuard::lift(const Developer& owner, const std::string& app_id, const std::string& prefix_text) {
  auto app = applications_.get(owner, app_id);
  if (!app.ok()) return app.error();
  const std::string prefix = prefix_text.starts_with('+') ? prefix_text : "+" + prefix_text;
  const TimePoint now = clock_.now();
  const bool lifted =
      prefix.size() >= 2 && prefix.size() <= 16 && prefix.find_first_not_of("0123456789", 1) == std::string::npos &&
      store_.write([&](storage::Connection& c) {
        return storage::abuse::lift(c, app_id, prefix, format_timestamp(now));
      });
  if (!lifted) return Error::not_found("This prefix is not blocked.");
  ledger_->lifted(app_id, prefix, now);
  return Ok{};
}

Result<SimulationResult> AbuseGuard::simulate(const Developer& owner, const std::string& app_id,
                                              const nlohmann::json& body) {
  auto app = applications_.get(owner, app_id);
  if (!app.ok()) return app.error();
  FieldReader fields(body);
  const bool days_given = body.contains("days") && !body["days"].is_null();
  const auto days = days_given ? fields.optional_integer("days", 1, 90) : std::nullopt;
  std::optional<OtpPolicy> proposed;
  if (!body.contains("policy") || !body["policy"].is_object()) {
    fields.reject("policy", "must be an object: the policy to try (fields left out take their defaults)");
  } else {
    auto read = read_policy(body["policy"], defaults_);
    if (read.ok()) {
      proposed = read.value();
    } else if (read.error().details.contains("fields")) {
      for (const auto& [name, problem] : read.error().details["fields"].items()) {
        fields.reject("policy." + name, problem.get<std::string>());
      }
    }
  }
  if (!fields.ok()) return fields.error();

  AbuseSimulation simulation(proposed->abuse);
  if (app.value().environment == "test") return simulation.finish();  // every send of a test app is exempt
  const TimePoint now = clock_.now();
  std::string after = first_id_at(now - std::chrono::days(days.value_or(7)));
  for (;;) {
    const auto rows =
        store_.read([&](storage::Connection& c) { return storage::abuse::sends_after(c, app_id, after, kHistoryChunk); });
    for (const auto& row : rows) {
      PastSend send{row.id, row.phone, row.region, row.number_type.value_or("unknown"),
                    parse_timestamp(row.created_at).value_or(now), std::nullopt};
      if (row.verified_at) send.verified_at = parse_timestamp(*row.verified_at);
      simulation.add(send);
    }
    if (rows.size() < static_cast<std::size_t>(kHistoryChunk)) break;
    after = rows.back().id;
  }
  return simulation.finish();
}

}  // namespace core
