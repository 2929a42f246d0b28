// Writes that the jobs of one group commit share. Counter increments and event inserts made
// by a write job are not executed at once: the job hands them to the BatchWrites of the write
// job running on this thread (pending_writes()); the writer keeps a job's share only when the
// job succeeds and writes the whole batch's just before COMMIT, one upsert per counter row
// however many jobs moved it and the events in multi-row INSERTs. The flow benchmark's batch of
// about 8 requests moved the same daily_stats row 8 times; now once.
//
// Code that is not a write job (migrations, a bare connection in a test) has no pending writes
// and writes at once; so does a job of a Database whose writer runs without a batch.
// Nothing in a job may read back what it deferred (no code does: logs and analytics are read
// on reader connections, after the commit).
#pragma once

#include "storage/sql.h"


#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "storage/otp.h"

namespace storage {

enum class StatColumn { kSent, kVerified, kFailed };

// Whose active phones a count belongs to: a developer's identities, or one application's phones.
enum class ActiveScope { kDeveloper, kApplication };
// The scope's value in active_phone_days.scope.
const char* active_scope_name(ActiveScope scope);

class BatchWrites {
 public:
  // daily_stats(app_id, day).column += 1.
  void count(const std::string& app_id, const std::string& developer_id, const std::string& day, StatColumn column);
  // active_phone_days(scope, scope_id, day).phones += delta.
  void count_active(ActiveScope scope, const std::string& scope_id, const std::string& day, int delta);
  void add_event(EventRow row);

  // Takes over a finished job's writes (events keep their order: this batch's, then the job's).
  void absorb(BatchWrites&& job);
  // Writes everything gathered and forgets it.
  void flush(Connection& db);

 private:
  struct Stats {
    std::string developer_id;
    long long sent = 0, verified = 0, failed = 0;
  };
  std::map<std::tuple<std::string, std::string>, Stats> stats_;             // (app_id, day)
  std::map<std::tuple<int, std::string, std::string>, long long> active_;  // (scope, id, day)
  std::vector<EventRow> events_;
};

// The pending writes of the write job running on this thread, or nullptr outside a job.
BatchWrites* pending_writes();

// Makes `writes` the pending writes of this thread for its lifetime (the writer, per job).
class PendingWritesScope {
 public:
  explicit PendingWritesScope(BatchWrites* writes);
  ~PendingWritesScope();
  PendingWritesScope(const PendingWritesScope&) = delete;
  PendingWritesScope& operator=(const PendingWritesScope&) = delete;

 private:
  BatchWrites* previous_;
};

// The statements behind BatchWrites, also used directly when there is no batch.
void upsert_daily_stats(Connection& db, const std::string& app_id, const std::string& developer_id,
                        const std::string& day, long long sent, long long verified, long long failed);
void upsert_active_phones(Connection& db, ActiveScope scope, const std::string& scope_id, const std::string& day,
                          long long delta);
void insert_events(Connection& db, const std::vector<EventRow>& rows);

}  // namespace storage
