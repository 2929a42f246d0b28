-- Migration 3: projects, applications and application credentials.

CREATE TABLE projects (
  id            TEXT PRIMARY KEY,             -- UUIDv7: "newest first" is an index scan
  developer_id  TEXT NOT NULL REFERENCES developers(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  description   TEXT NOT NULL DEFAULT '',
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
) STRICT;
CREATE INDEX projects_by_developer ON projects(developer_id, id);

CREATE TABLE applications (
  id            TEXT PRIMARY KEY,
  developer_id  TEXT NOT NULL REFERENCES developers(id) ON DELETE CASCADE,
  -- No cascade: a project with applications cannot be deleted (409).
  project_id    TEXT NOT NULL REFERENCES projects(id),
  name          TEXT NOT NULL,
  environment   TEXT NOT NULL CHECK (environment IN ('live', 'test')),
  status        TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
  client_id     TEXT NOT NULL UNIQUE,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  rotated_at    TEXT
) STRICT;
CREATE INDEX applications_by_developer ON applications(developer_id, id);
CREATE INDEX applications_by_project ON applications(project_id, id);

-- Secrets of an application; never in plaintext. The current one of each type has
-- expires_at NULL; a rotated-out one lives on until expires_at (the rotation's grace period).
--   api:            lookup_hash = keyed BLAKE2b of the key (unique, the lookup index)
--   secret:         verifier    = salt || keyed BLAKE2b(salt || secret)
--   webhook_secret: ciphertext  = nonce || secretbox(secret) under the server key
CREATE TABLE app_credentials (
  id            INTEGER PRIMARY KEY,
  app_id        TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  type          TEXT NOT NULL CHECK (type IN ('api', 'secret', 'webhook_secret')),
  lookup_hash   BLOB UNIQUE,
  verifier      BLOB,
  ciphertext    BLOB,
  preview       TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  expires_at    TEXT
) STRICT;
CREATE INDEX app_credentials_by_app ON app_credentials(app_id, type);
