-- Migration 2: developer accounts and their refresh tokens.

CREATE TABLE developers (
  id               TEXT PRIMARY KEY,            -- UUIDv7
  email            TEXT NOT NULL,               -- as the developer wrote it
  email_key        TEXT NOT NULL UNIQUE,        -- lower-cased, for lookups and uniqueness
  name             TEXT NOT NULL DEFAULT '',
  company          TEXT NOT NULL DEFAULT '',
  plan             TEXT NOT NULL,
  virtual_phone    TEXT NOT NULL UNIQUE,        -- E.164, +999 and 9 digits
  password_hash    TEXT,                        -- Argon2id (crypto_pwhash_str); NULL: no password sign-in
  firebase_uid     TEXT UNIQUE,                 -- `sub` of the Firebase account linked to it
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL
) STRICT;

-- A refresh token is stored only as a keyed hash. Rotation marks the old row used; a used
-- token presented again revokes its whole family (the chain of rotations from one sign-in).
CREATE TABLE refresh_tokens (
  token_hash    BLOB PRIMARY KEY,
  developer_id  TEXT NOT NULL REFERENCES developers(id) ON DELETE CASCADE,
  family_id     TEXT NOT NULL,
  auth_time     TEXT NOT NULL,                -- when the family's sign-in happened
  created_at    TEXT NOT NULL,
  expires_at    TEXT NOT NULL,
  used_at       TEXT
) STRICT;
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_developer ON refresh_tokens(developer_id);
