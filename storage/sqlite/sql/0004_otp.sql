-- Migration 4: OTP requests, their delivery, identities and the event outbox.
-- OTP history has no foreign key to applications: it outlives a deleted application
-- (logs and analytics keep it until retention removes it).

CREATE TABLE otp_requests (
  id              TEXT PRIMARY KEY,           -- the requestId, UUIDv7
  app_id          TEXT NOT NULL,
  developer_id    TEXT NOT NULL,
  phone           TEXT NOT NULL,              -- E.164
  status          TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'failed', 'expired')),
  failure_reason  TEXT,                       -- superseded | max_attempts
  code_hash       BLOB,                       -- HMAC of the code bound to id; NULL once not pending
  attempts        INTEGER NOT NULL DEFAULT 0,
  delivery_status TEXT NOT NULL CHECK (delivery_status IN ('queued', 'sent', 'failed')),
  created_at      TEXT NOT NULL,
  expires_at      TEXT NOT NULL,
  verified_at     TEXT,
  updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX otp_requests_by_developer ON otp_requests(developer_id, id);
CREATE INDEX otp_requests_by_app ON otp_requests(app_id, id);
CREATE INDEX otp_requests_pending ON otp_requests(app_id, phone) WHERE status = 'pending';
CREATE INDEX otp_requests_by_created ON otp_requests(created_at);

-- Consecutive wrong codes per application and phone, across requests (a resend never resets
-- them); at the limit the phone is locked for that application until locked_until.
CREATE TABLE phone_failures (
  app_id               TEXT NOT NULL,
  phone                TEXT NOT NULL,
  consecutive_failures INTEGER NOT NULL,
  locked_until         TEXT,
  PRIMARY KEY (app_id, phone)
) STRICT, WITHOUT ROWID;

-- The durable SMS queue of the http and exec drivers. The message (it holds the code) is
-- encrypted with the server key and erased once delivered, failed, or the OTP leaves pending.
CREATE TABLE sms_jobs (
  id               INTEGER PRIMARY KEY,
  request_id       TEXT NOT NULL,
  app_id           TEXT NOT NULL,
  app_name         TEXT NOT NULL,
  phone            TEXT NOT NULL,
  driver           TEXT NOT NULL,
  message_box      BLOB,
  code_box         BLOB,
  status           TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TEXT NOT NULL,
  last_error       TEXT,
  created_at       TEXT NOT NULL
) STRICT;
CREATE INDEX sms_jobs_due ON sms_jobs(next_attempt_at) WHERE status = 'queued';
CREATE INDEX sms_jobs_by_request ON sms_jobs(request_id);
CREATE INDEX sms_jobs_by_created ON sms_jobs(created_at);

-- Messages of the inbox driver (virtual +999 numbers and test applications). The text is
-- encrypted and replaced by NULL ("[expired]") once its OTP leaves pending.
CREATE TABLE inbox_messages (
  id           TEXT PRIMARY KEY,
  request_id   TEXT NOT NULL,
  app_id       TEXT NOT NULL,
  developer_id TEXT NOT NULL,
  phone        TEXT NOT NULL,
  message_box  BLOB,
  created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX inbox_by_developer ON inbox_messages(developer_id, id);
CREATE INDEX inbox_by_request ON inbox_messages(request_id);
CREATE INDEX inbox_by_created ON inbox_messages(created_at);

-- Verified phones of a developer (SPEC §8).
CREATE TABLE identities (
  developer_id        TEXT NOT NULL,
  phone               TEXT NOT NULL,
  id                  TEXT NOT NULL UNIQUE,    -- UUIDv7 of the first verification: list order
  created_at          TEXT NOT NULL,
  last_verified_at    TEXT NOT NULL,
  verification_count  INTEGER NOT NULL,
  last_application_id TEXT NOT NULL,
  PRIMARY KEY (developer_id, phone)
) STRICT, WITHOUT ROWID;
CREATE INDEX identities_by_developer ON identities(developer_id, id);

-- Every state change, written in the transaction of the change: the source of logs, analytics
-- and webhook deliveries. seq orders them.
CREATE TABLE events (
  seq          INTEGER PRIMARY KEY,
  id           TEXT NOT NULL UNIQUE,
  type         TEXT NOT NULL,
  developer_id TEXT NOT NULL,
  app_id       TEXT NOT NULL,
  request_id   TEXT,
  phone        TEXT,
  status       TEXT,
  payload      TEXT NOT NULL,
  created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX events_by_developer ON events(developer_id, seq);
CREATE INDEX events_by_app ON events(app_id, seq);
CREATE INDEX events_by_created ON events(created_at);
