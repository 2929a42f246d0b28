#include "storage/database.h"

#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>

namespace storage {

std::unique_ptr<SQLite::Database> open_connection(const DatabaseOptions& options, bool create) {
  const int flags = SQLite::OPEN_READWRITE | SQLite::OPEN_FULLMUTEX | (create ? SQLite::OPEN_CREATE : 0);
  std::unique_ptr<SQLite::Database> db;
  try {
    db = std::make_unique<SQLite::Database>(options.path, flags, options.busy_timeout_ms);
    // Touch the file header now, so "not a database" surfaces here and not mid-request.
    db->execAndGet("PRAGMA schema_version");
  } catch (const SQLite::Exception& e) {
    throw OpenError("cannot open database '" + options.path + "': " + e.getErrorStr());
  }
  return db;
}

namespace {

void apply_pragmas(SQLite::Database& db, Durability durability) {
  const std::string mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
  if (mode != "wal") throw OpenError("cannot switch '" + db.getFilename() + "' to WAL mode");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec(durability == Durability::kFull ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
}

}  // namespace

Database::Database(DatabaseOptions options) : options_(std::move(options)) {}

std::unique_ptr<Database> Database::open(const DatabaseOptions& options, std::string_view now) {
  std::unique_ptr<Database> database(new Database(options));
  database->writer_ = open_connection(options, /*create=*/true);
  try {
    // Refuse an incompatible file before changing anything in it (WAL switch included).
    check_compatible(*database->writer_);
    apply_pragmas(*database->writer_, options.durability);
    database->migration_ = migrate(*database->writer_, now);
  } catch (const SQLite::Exception& e) {
    throw OpenError("cannot use database '" + options.path + "': " + e.getErrorStr());
  }
  return database;
}

bool Database::ping() noexcept {
  try {
    return read([](SQLite::Database& db) {
      return db.execAndGet("SELECT max(version) FROM schema_migrations").getInt() > 0;
    });
  } catch (...) {
    return false;
  }
}

Database::Lease::Lease(Database& db) : owner(db) {
  {
    std::lock_guard lock(owner.pool_mutex_);
    if (!owner.idle_readers_.empty()) {
      connection = std::move(owner.idle_readers_.back());
      owner.idle_readers_.pop_back();
      return;
    }
  }
  connection = open_connection(owner.options_, /*create=*/false);
  connection->exec("PRAGMA foreign_keys = ON");
}

Database::Lease::~Lease() {
  std::lock_guard lock(owner.pool_mutex_);
  owner.idle_readers_.push_back(std::move(connection));
}

}  // namespace storage
