// `backup` and `restore`: a consistent, integrity-checked copy of a live database, and putting
// one back in place of a stopped server's database. Files appear only whole (written beside
// their final name, fsynced, then renamed), never overwrite one another, and are created 0600
// (they hold hashed secrets; the key file is the server key). Not thread-safe; one call at a
// time from the CLI.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace storage {

// One line for an operator; nothing was published (a temporary file may have been removed).
class BackupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct BackupOutcome {
  std::string path;
  std::uintmax_t bytes = 0;
  int schema_version = 0;
  std::optional<std::string> key_path;  // `<path>.key`, when a key file was copied too
};

// Copies the database at `db_path` (a server may be writing it; its lock is not needed) to the
// new file `out_path` with SQLite's online backup API, in one read transaction, so the copy is
// the database as of one commit. The copy must pass `PRAGMA integrity_check` and carry the
// schema version it had then. With `key_file`, also copies that key to `<out_path>.key`.
// Refuses an existing `out_path` (or `.key`), `out_path` naming the database, a missing
// database and a file that is not a cobinar-phone database.
BackupOutcome backup_database(const std::string& db_path, const std::string& out_path,
                              const std::optional<std::string>& key_file);

// Checks that the SQLite file at `path` is a cobinar-phone database this binary can open (not
// foreign, schema not newer), intact (`PRAGMA integrity_check`). Returns its schema version;
// throws BackupError naming `shown_as`.
int verify_database_file(const std::string& path, const std::string& shown_as);

struct RestoreOutcome {
  std::string db_path;
  std::uintmax_t bytes = 0;
  int schema_version = 0;
  std::optional<std::string> previous;      // where the replaced database was kept
  std::optional<std::string> key_path;      // the key file written, with `from_key`
  std::optional<std::string> previous_key;  // where the replaced key file was kept
};

// Replaces the database at `db_path` with a verified copy of `from`. The caller holds the
// database lock (no server runs). The old database, with its WAL, is kept as
// `<db_path>.before-restore-<stamp>`; stale `-wal`/`-shm` files are removed so SQLite cannot
// replay them onto the restored file. With `key_file`, `<from>.key` also replaces that key file
// (the old one kept as `<key_file>.before-restore-<stamp>`).
RestoreOutcome restore_database(const std::string& from, const std::string& db_path,
                                const std::optional<std::string>& key_file, const std::string& stamp);

}  // namespace storage
