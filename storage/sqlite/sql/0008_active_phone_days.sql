-- Migration 8: active users kept as counts per day, so the summary's activeUsers reads about
-- 31 small rows however many phones are active (it counted index entries: 3.4 ms at 1M events).
-- A phone counts on the UTC day of its latest verification: a new verification moves it from
-- its previous day to today.
CREATE TABLE active_phone_days (
  scope    TEXT NOT NULL CHECK (scope IN ('developer', 'application')),
  scope_id TEXT NOT NULL,          -- developers.id (identities) or an application id
  day      TEXT NOT NULL,          -- YYYY-MM-DD (UTC)
  phones   INTEGER NOT NULL,       -- phones whose latest verification is on this day
  PRIMARY KEY (scope, scope_id, day)
) STRICT, WITHOUT ROWID;

INSERT INTO active_phone_days(scope, scope_id, day, phones)
  SELECT 'developer', developer_id, substr(last_verified_at, 1, 10), count(*)
  FROM identities GROUP BY developer_id, substr(last_verified_at, 1, 10);
INSERT INTO active_phone_days(scope, scope_id, day, phones)
  SELECT 'application', app_id, substr(last_verified_at, 1, 10), count(*)
  FROM app_phone_activity GROUP BY app_id, substr(last_verified_at, 1, 10);
