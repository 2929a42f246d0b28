-- Cobinar Phone Server schema, migration 1. Applied by storage/migrations.cpp in one
-- transaction. Later changes are appended as new migrations; an applied one is never edited.

-- One row per applied migration (PRAGMA user_version holds the latest one too).
CREATE TABLE schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL,
  applied_at TEXT    NOT NULL
) STRICT;

-- Facts about this database file itself (e.g. when it was created).
CREATE TABLE server_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
