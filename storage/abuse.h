// Abuse controls (SPEC §17): SQL only. The breaker's blocks (both engines), the shared ledger
// of accepted sends PostgreSQL nodes count together (SQLite counts in memory), and the reads of
// OTP history the what-if replay and the SQLite start-up need. Timestamps are ISO text.
// Stateless; callers bring the connection.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/sql.h"

namespace storage::abuse {

struct BlockRow {
  std::string app_id;
  std::string prefix;
  long long sends = 0;
  long long verified = 0;
  std::string blocked_at;
  std::string reopens_at;
};

// Inserts or replaces the block of (app, prefix).
void put_block(Connection& c, const BlockRow& row);
// Blocks of an application still open at `now`, newest first.
std::vector<BlockRow> open_blocks(Connection& c, const std::string& app_id, const std::string& now);
// Blocks of every application that reopened after `since` or are still open.
std::vector<BlockRow> blocks_since(Connection& c, const std::string& since);
// Ends an open block at `now` and forgets the sends counted before it (PostgreSQL); false when
// (app, prefix) has none open.
bool lift(Connection& c, const std::string& app_id, const std::string& prefix, const std::string& now);

// PostgreSQL: this transaction waits for its flush again (soft-state steps turn that off); a
// refusal joins them and is an answered state. SQLite: nothing.
void flush_on_commit(Connection& c);

// --- PostgreSQL's shared ledger -----------------------------------------------------------------
// One round trip: this transaction stops waiting for its flush (soft state) and takes the
// advisory lock `name` (as locks::exclusive).
void lock_without_flush(Connection& c, const std::string& name);
// The prefix's block row, if any, and its accepted sends (and how many are verified) at or
// after `from` or the block's reopens_at, whichever is later. One statement.
struct Judgement {
  std::optional<BlockRow> block;
  long long sends = 0;
  long long verified = 0;
};
Judgement judge(Connection& c, const std::string& app_id, const std::string& prefix, const std::string& from);
void record_send(Connection& c, const std::string& request_id, const std::string& app_id, const std::string& prefix,
                 const std::string& sent_at);
// The send recorded as `admission_id` is the stored request `request_id`.
void rename_send(Connection& c, const std::string& admission_id, const std::string& request_id);
// Takes back a recorded send; nothing if there is none.
void forget_send(Connection& c, const std::string& request_id);
// Marks a recorded send verified; nothing if there is none.
void mark_verified(Connection& c, const std::string& request_id);
// Counts one more accepted send of `app_id` on `day` ("2026-12-07") unless `limit` are counted
// already; a day without a row starts from `already` (its sends before anyone counted).
// Returns false (and counts nothing more) at the limit. PostgreSQL only.
bool take_daily(Connection& c, const std::string& app_id, const std::string& day, long long limit,
                long long already);
// Takes one back (a send refused after it was counted).
void give_back_daily(Connection& c, const std::string& app_id, const std::string& day);
bool daily_counted(Connection& c, const std::string& app_id, const std::string& day);

// Deletes breaker sends before `before`, daily counts of days before `day` and blocks that
// reopened before `reopened_before`, up to `batch` rows each; returns rows removed.
int purge(Connection& c, const std::string& before, const std::string& day, const std::string& reopened_before,
          int batch);

// --- History ------------------------------------------------------------------------------------
struct SendRow {
  std::string id;
  std::string app_id;
  std::string phone;
  std::optional<std::string> region;
  std::optional<std::string> number_type;
  std::string created_at;
  std::optional<std::string> verified_at;
};
// Requests of `app_id` with ids in (after_id, …), oldest first,
// at most `limit`, not to +999 numbers. UUIDv7 ids sort by time, so this walks a key range.
std::vector<SendRow> sends_after(Connection& c, const std::string& app_id, const std::string& after_id, int limit);
// Ids of live applications (test applications are exempt from the abuse rules).
std::vector<std::string> live_application_ids(Connection& c);
// Requests of `app_id` created in [day_start_id, …), not to +999 numbers (the budget's first count).
long long count_sends_from(Connection& c, const std::string& app_id, const std::string& from_id);

}  // namespace storage::abuse
