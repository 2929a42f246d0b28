-- Migration 5: webhooks, their deliveries, and the fan-out position in the event outbox.

CREATE TABLE webhooks (
  id            TEXT PRIMARY KEY,
  developer_id  TEXT NOT NULL,
  app_id        TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  url           TEXT NOT NULL,
  events        TEXT NOT NULL,                 -- JSON array of event names
  status        TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
) STRICT;
CREATE INDEX webhooks_by_developer ON webhooks(developer_id, id);
CREATE INDEX webhooks_by_app ON webhooks(app_id);

-- One row per (event, webhook): the exact body is kept so every retry sends the same bytes.
-- A pending row with next_attempt_at in the past is due; a worker leases it by moving
-- next_attempt_at forward, so a crash mid-flight only delays it (at-least-once).
CREATE TABLE webhook_deliveries (
  id                TEXT PRIMARY KEY,
  webhook_id        TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_id          TEXT NOT NULL,
  event             TEXT NOT NULL,
  body              TEXT NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  last_status_code  INTEGER,
  last_error        TEXT,
  last_duration_ms  INTEGER,
  created_at        TEXT NOT NULL,
  last_attempt_at   TEXT,
  next_attempt_at   TEXT
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, id);
CREATE INDEX webhook_deliveries_by_created ON webhook_deliveries(created_at);

CREATE TABLE outbox_cursors (
  name  TEXT PRIMARY KEY,
  seq   INTEGER NOT NULL
) STRICT;
