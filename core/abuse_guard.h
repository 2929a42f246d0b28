// The live side of the abuse controls (SPEC §17): judges each non-exempt send against the
// breaker and the daily budget, keeps the counts, lists and lifts blocks, and replays history
// for the what-if. The counts live in memory with SQLite (one process owns the file; rebuilt
// at start from each live application's requests inside its breaker window; a day's sends are
// counted from the table at the first budgeted send of a day this process did not see begin) and in shared tables with PostgreSQL, where every
// node counts together under a lock per (application, prefix). Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/abuse.h"
#include "core/applications.h"
#include "core/clock.h"
#include "core/error.h"
#include "storage/store.h"

namespace core {

// An accepted send as the counts know it, so it can be taken back if the send fails later.
struct AbuseTicket {
  std::string app_id;
  std::string prefix;
  std::string request_id;  // the admission's id until the request is stored
  TimePoint sent_at{};
  bool counted = false;  // recorded by the breaker or the budget
};

struct AbuseVerdict {
  Admission admission;
  AbuseTicket ticket;
};

class AbuseGuard {
 public:
  // `defaults`: the policy of applications that have none (to read stored policies).
  AbuseGuard(storage::Store& store, const Clock& clock, ApplicationService& applications, OtpPolicy defaults);
  ~AbuseGuard();
  // With SQLite: rebuilds the breaker's counts from the stored blocks and each live
  // application's requests inside its breaker window
  // (reads only). The server calls it once before it answers; CLI commands never need it.
  void restore();

  // The breaker and the daily budget for a send of `app` to `e164` (not exempt, not refused by
  // the country and number-type rules). `judge` false: a safe-listed number, counted only.
  AbuseVerdict admit(const Application& app, const AbusePolicy& policy, const std::string& e164,
                     const std::string& request_id, TimePoint now, bool judge);
  // Takes back an admitted send that did not happen after all.
  void cancel(const AbuseTicket& ticket);
  // Inside the send's transaction: the admitted send is stored as request `request_id` (ids are
  // made under the phone's lock, so the newest request of a phone is the one stored last).
  void stored(storage::Connection& c, const AbuseTicket& ticket, const std::string& request_id);
  // Inside the refusal's transaction: stores the block this send opened.
  void opened(storage::Connection& c, const std::string& app_id, const PrefixBlock& block);
  // Inside the verify transaction of a non-exempt request.
  void verified(storage::Connection& c, const Application& app, const AbusePolicy& policy, const std::string& phone,
                const std::string& request_id);

  // GET /v1/applications/:id/blocks and DELETE …/blocks/:prefix.
  Result<std::vector<PrefixBlock>> blocks(const Developer& owner, const std::string& app_id);
  Status lift(const Developer& owner, const std::string& app_id, const std::string& prefix);
  // POST /v1/applications/:id/policy/simulate.
  Result<SimulationResult> simulate(const Developer& owner, const std::string& app_id, const nlohmann::json& body);

  class Ledger;

 private:
  storage::Store& store_;
  const Clock& clock_;
  ApplicationService& applications_;
  OtpPolicy defaults_;
  std::unique_ptr<Ledger> ledger_;
};

// The smallest UUIDv7 text of time `t` (ids of rows made at or after `t` sort after it).
std::string first_id_at(TimePoint t);

}  // namespace core
