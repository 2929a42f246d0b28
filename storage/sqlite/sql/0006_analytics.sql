-- Migration 6: analytics counters kept in the transaction of each event, so summaries and
-- time series read O(days × applications) rows however long the history grows.

-- Per application and UTC day. Survives the application's deletion and the retention purge
-- (aggregates only, no phone numbers).
CREATE TABLE daily_stats (
  app_id        TEXT NOT NULL,
  developer_id  TEXT NOT NULL,
  day           TEXT NOT NULL,          -- YYYY-MM-DD (UTC)
  sent          INTEGER NOT NULL DEFAULT 0,
  verified      INTEGER NOT NULL DEFAULT 0,
  failed        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (app_id, day)
) STRICT, WITHOUT ROWID;
CREATE INDEX daily_stats_by_developer ON daily_stats(developer_id, day);

-- The last verification of each phone through each application: active users per app.
CREATE TABLE app_phone_activity (
  app_id            TEXT NOT NULL,
  phone             TEXT NOT NULL,
  last_verified_at  TEXT NOT NULL,
  PRIMARY KEY (app_id, phone)
) STRICT, WITHOUT ROWID;
CREATE INDEX app_phone_activity_recent ON app_phone_activity(app_id, last_verified_at);
CREATE INDEX identities_recent ON identities(developer_id, last_verified_at);
