// The command line (CLI11): commands, options, COBINAR_* variables and the --config TOML file.
// Not thread-safe; call once from main.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "app/config.h"

namespace app {

enum class Command {
  kServe,
  kMigrate,
  kVersion,
  kDeveloperCreate,
  kDeveloperSetPlan,
  kDeveloperList,
  kDeveloperResetPassword,
  kDeveloperDisable,
  kDeveloperEnable,
  kToken,
  kBackup,
  kRestore,
  kMigrateData,
  kReceiptKeysList,
  kReceiptKeysRotate,
  kReceiptKeysRetire,
  kReceiptKeysExport
};

// Arguments of `receipt-keys retire --kid K` and `receipt-keys export --out FILE`.
struct ReceiptKeyArgs {
  std::string kid;
  std::string out;
};

// Arguments of the `developer ...` and `token` commands.
struct DeveloperArgs {
  std::string email;
  std::string name;
  std::string plan;             // empty = the default plan (create) — required for set-plan
  bool password_stdin = false;  // read the password from the first line of stdin (required for reset-password)
};

// Arguments of `backup --out FILE [--with-key]` and `restore --from FILE [--with-key]`.
struct BackupArgs {
  std::string out;        // backup: the new file
  std::string from;       // restore: the backup file
  bool with_key = false;  // also copy the key file (to/from FILE.key)
};

// Arguments of `migrate-data`.
struct MigrateDataArgs {
  std::string from;  // the SQLite file
  std::string to;    // the postgres:// URL
};

struct CliOutcome {
  Command command = Command::kServe;
  Config config;
  DeveloperArgs developer;
  BackupArgs backup;
  MigrateDataArgs migrate_data;
  ReceiptKeyArgs receipt_keys;
  std::optional<int> exit_code;  // set when parsing already finished the run (help, bad input)
};

// "cobinar-phone 0.1.0 (cpp-httplib 0.18.7, tcmalloc)": what `version` and `--version` print.
// The last word is the allocator the build links into cobinar-phone (CMake COBINAR_ALLOCATOR:
// tcmalloc or system), also in test executables, which themselves always use glibc's.
std::string version_line();

// Parses argv. Help goes to `out`; a parse error becomes one line on `err` and exit code 2.
CliOutcome parse_command_line(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace app
