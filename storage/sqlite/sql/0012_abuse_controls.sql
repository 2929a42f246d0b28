-- Migration 12: abuse controls (SPEC §17).
-- prefix_blocks: the conversion breaker's blocks, one row per (application, prefix), kept after
-- the block ends: reopens_at (moved to the lift time by a manual lift) is also where the prefix's
-- next judgement starts counting. sends and verified are the figures that tripped it.
-- Retention deletes rows that reopened more than two days ago.
CREATE TABLE prefix_blocks (
  app_id     TEXT NOT NULL,
  prefix     TEXT NOT NULL,
  sends      INTEGER NOT NULL,
  verified   INTEGER NOT NULL,
  blocked_at TEXT NOT NULL,
  reopens_at TEXT NOT NULL,
  PRIMARY KEY (app_id, prefix)
) STRICT, WITHOUT ROWID;
CREATE INDEX prefix_blocks_by_reopening ON prefix_blocks(reopens_at);
