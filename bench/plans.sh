#!/usr/bin/env bash
# The query plans of the console's reads and of retention on a fresh database of BINARY:
#   bench/plans.sh BINARY
# (SQLite plans depend on the schema and, after ANALYZE, on statistics: this shows which
# indexes each query can use, e.g. before and after an index is dropped.)
set -euo pipefail
binary=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v sqlite3 >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq sqlite3 >/dev/null; }
"$binary" migrate --db "$work/db.sqlite" >/dev/null
echo "schema version $(sqlite3 "$work/db.sqlite" 'PRAGMA user_version') ($("$binary" version))"
while IFS='|' read -r name sql; do
  [ -z "$name" ] && continue
  echo "- $name:"
  sqlite3 "$work/db.sqlite" "EXPLAIN QUERY PLAN $sql" 2>/dev/null | grep -v '^QUERY PLAN' | sed 's/^/    /' ||
    echo "    (not in this schema)"
done <<'SQL'
OTP requests, first page|SELECT id FROM otp_requests WHERE developer_id = 'd' AND ('a' IS NULL OR app_id = 'a') AND (NULL IS NULL OR id < NULL) ORDER BY id DESC LIMIT 51
OTP requests of all apps|SELECT id FROM otp_requests WHERE developer_id = 'd' AND (NULL IS NULL OR app_id = NULL) AND (NULL IS NULL OR id < NULL) ORDER BY id DESC LIMIT 51
logs, all apps|SELECT seq FROM events WHERE developer_id = 'd' AND (NULL IS NULL) AND seq < 9e18 ORDER BY seq DESC LIMIT 51
logs, one app|SELECT seq FROM events WHERE app_id = 'a' AND developer_id = 'd' AND seq < 9e18 ORDER BY seq DESC LIMIT 51
inbox|SELECT m.id FROM inbox_messages m LEFT JOIN otp_requests r ON r.id = m.request_id WHERE m.developer_id = 'd' AND (NULL IS NULL OR m.app_id = NULL) AND (NULL IS NULL OR m.phone = NULL) AND (NULL IS NULL OR m.id < NULL) ORDER BY m.id DESC LIMIT 51
identities|SELECT id FROM identities WHERE developer_id = 'd' AND (NULL IS NULL OR id < NULL) ORDER BY id DESC LIMIT 51
summary totals|SELECT coalesce(sum(sent), 0) FROM daily_stats WHERE developer_id = 'd' AND (NULL IS NULL OR app_id = NULL)
timeseries|SELECT day, sum(sent) FROM daily_stats WHERE developer_id = 'd' AND (NULL IS NULL OR app_id = NULL) AND day >= '2026-01-01' GROUP BY day ORDER BY day
activeUsers, day counts|SELECT coalesce(sum(phones), 0) FROM active_phone_days WHERE scope = 'developer' AND scope_id = 'd' AND day > '2026-01-01'
activeUsers, the first day|SELECT count(*) FROM identities WHERE developer_id = 'd' AND last_verified_at >= '2026-01-01T10:00:00.000Z' AND last_verified_at < '2026-01-01T24'
retention, OTP requests|DELETE FROM otp_requests WHERE id IN (SELECT id FROM (SELECT id, created_at FROM otp_requests ORDER BY id LIMIT 500) WHERE created_at < '2026-01-01')
retention, events|DELETE FROM events WHERE seq IN (SELECT seq FROM (SELECT seq, created_at FROM events ORDER BY seq LIMIT 500) WHERE created_at < '2026-01-01')
SQL
