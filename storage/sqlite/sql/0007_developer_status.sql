-- Migration 7: an operator can disable a developer account (`developer disable`). While
-- disabled_at is set, the console refuses the developer's ID tokens, refresh tokens and logins.

ALTER TABLE developers ADD COLUMN disabled_at TEXT;  -- when it was disabled; NULL: enabled
