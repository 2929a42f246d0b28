#!/usr/bin/env bash
# The analytics benchmark: fills a database with 1,000,000 OTP events over 90 days, serves it
# with the release build, and measures GET /v1/logs, /v1/analytics/summary and
# /v1/analytics/timeseries with wrk (1 connection, 5 s each). Prints one line per endpoint
# and appends the results, with date and machine, to bench/RESULTS.md.
#   bench/analytics.sh [EVENTS] [DAYS]     (defaults 1000000 90)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
days=${2:-90}
scripts/build.sh >/dev/null
command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
db="$work/history.sqlite"
fill_start=$(date +%s)
build/bench/cobinar-bench-fill "$db" "$events" "$days" >/dev/null 2>&1
fill_seconds=$(( $(date +%s) - fill_start ))
token=$(build/cobinar-phone token --email bench@example.com --db "$db")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
build/cobinar-phone --db "$db" --listen "127.0.0.1:$port" --durability normal 2>/dev/null &
server=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
app=$(curl -fs "http://127.0.0.1:$port/v1/applications?limit=1" -H "Authorization: Bearer $token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
cursor=$(curl -fs "http://127.0.0.1:$port/v1/logs?limit=200" -H "Authorization: Bearer $token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["nextCursor"])')

results=()
measure() {  # name path
  local out rps p50 p99
  out=$(wrk -t1 -c1 -d5s --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$2")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  printf '%-40s %10s req/s   p50 %8s   p99 %8s\n' "$1" "$rps" "$p50" "$p99"
  results+=("| \`$1\` | $rps | $p50 | $p99 |")
}
echo "database: $events events over $days days ($(du -h "$db" | cut -f1)), filled in ${fill_seconds}s"
measure "GET /v1/logs (first page, 50)" "/v1/logs"
measure "GET /v1/logs (second page of 200)" "/v1/logs?limit=200&cursor=$cursor"
measure "GET /v1/logs?appId=" "/v1/logs?appId=$app"
measure "GET /v1/analytics/summary" "/v1/analytics/summary"
measure "GET /v1/analytics/summary?appId=" "/v1/analytics/summary?appId=$app"
measure "GET /v1/analytics/timeseries?range=90d" "/v1/analytics/timeseries?range=90d"
measure "GET /v1/analytics/timeseries?range=7d&appId=" "/v1/analytics/timeseries?range=7d&appId=$app"

{
  echo
  echo "### Analytics at $events events over $days days — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -srm)"
  echo
  echo "Release build, one wrk connection, 5 s per endpoint, database $(du -h "$db" | cut -f1)."
  echo
  echo "| endpoint | req/s | p50 | p99 |"
  echo "|---|---|---|---|"
  printf '%s\n' "${results[@]}"
} >> bench/RESULTS.md
echo "recorded in bench/RESULTS.md"
