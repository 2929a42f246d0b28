-- Migration 12: abuse controls (SPEC §17).
-- prefix_blocks: the conversion breaker's blocks, one row per (application, prefix), kept after
-- the block ends: reopens_at (moved to the lift time by a manual lift) is also where the prefix's
-- next judgement starts counting. sends and verified are the figures that tripped it.
-- Retention deletes rows that reopened more than two days ago.
CREATE TABLE prefix_blocks (
  app_id     TEXT COLLATE "C" NOT NULL,
  prefix     TEXT COLLATE "C" NOT NULL,
  sends      BIGINT NOT NULL,
  verified   BIGINT NOT NULL,
  blocked_at TEXT COLLATE "C" NOT NULL,
  reopens_at TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (app_id, prefix)
);
CREATE INDEX prefix_blocks_by_reopening ON prefix_blocks(reopens_at);
-- PostgreSQL only (SQLite's one process counts these in memory, rebuilt from otp_requests at
-- start): the breaker's accepted sends per (application, prefix), shared by every node, and the
-- accepted sends per application per UTC day (kept only while a daily budget is set).
-- Retention deletes breaker_sends older than a day and daily_sends of past days.
CREATE TABLE breaker_sends (
  request_id TEXT COLLATE "C" PRIMARY KEY,
  app_id     TEXT COLLATE "C" NOT NULL,
  prefix     TEXT COLLATE "C" NOT NULL,
  sent_at    TEXT COLLATE "C" NOT NULL,
  verified   BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX breaker_sends_window ON breaker_sends(app_id, prefix, sent_at) INCLUDE (verified);
CREATE INDEX breaker_sends_by_time ON breaker_sends(sent_at);
CREATE TABLE daily_sends (
  app_id TEXT COLLATE "C" NOT NULL,
  day    TEXT COLLATE "C" NOT NULL,
  sends  BIGINT NOT NULL,
  PRIMARY KEY (app_id, day)
);
