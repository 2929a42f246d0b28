#!/usr/bin/env bash
# The performance benchmark: builds the release binary, starts it on a fresh database with a
# test application and rate limits out of the way, and drives keep-alive load with wrk:
#   health, send, flow (send + verify with the returned testCode) at 16 and 64 connections,
#   console reads (GET /v1/otp, /v1/logs, /v1/analytics/summary), and the starvation probe
#   (a fresh client's GET /v1/health while 64 connections run flow and 200 more sit idle).
# Prints one line per scenario and appends them, with date and machine, to bench/RESULTS.md.
#   bench/run.sh [full|normal]      (durability, default full)   SECONDS=5 to change run length
set -euo pipefail
cd "$(dirname "$0")/.."
durability=${1:-full}
seconds=${SECONDS_PER_RUN:-5}
scripts/build.sh >/dev/null
binary=${BENCH_BINARY:-build/cobinar-phone}
command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }

work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
db="$work/bench.sqlite"
"$binary" developer create --email bench@example.com --plan unlimited --db "$db" >/dev/null
export COBINAR_TOKEN=$("$binary" token --email bench@example.com --db "$db")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
big=100000000
"$binary" --db "$db" --listen "127.0.0.1:$port" --durability "$durability" \
  --send-rate-limit $big --verify-rate-limit $big --phone-send-limit $big --phone-failure-limit $big \
  ${BENCH_SERVER_ARGS:-} 2>/dev/null &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -fs "$base/v1/health" >/dev/null && break; sleep 0.1; done
auth=(-H "Authorization: Bearer $COBINAR_TOKEN" -H 'content-type: application/json')
project=$(curl -fs "$base/v1/projects" "${auth[@]}" -d '{"name":"bench"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["data"]["id"])')
curl -fs "$base/v1/applications" "${auth[@]}" -d "{\"name\":\"bench\",\"projectId\":\"$project\",\"environment\":\"test\"}" > "$work/app.json"
eval "$(python3 -c '
import json; d=json.load(open("'"$work"'/app.json"))["data"]
print("export COBINAR_CLIENT_ID=%s COBINAR_CLIENT_SECRET=%s COBINAR_API_KEY=%s" % (d["clientId"], d["clientSecret"], d["apiKey"]))')"

rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$server/status"; }
hwm() { awk '/VmHWM/ {print int($2/1024)}' "/proc/$server/status"; }
idle_rss=$(rss)
lines=()
run() {  # name connections script path
  local out rps p50 p99 errors
  out=$(wrk -t1 -c"$2" -d"${seconds}s" --latency -s "bench/wrk/$3" "$base$4" 2>&1)
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/^ERRORS/ {print $2}' <<<"$out")
  errors=${errors:-$(awk '/Non-2xx/ {print $4}' <<<"$out")}
  errors=${errors:-0}
  [ "$3" = flow.lua ] && rps="$rps ($(python3 -c "print(round($rps/2))") pairs/s)"
  printf '%-28s c=%-3s %26s req/s  p50 %9s  p99 %9s  errors %s\n' "$1" "$2" "$rps" "$p50" "$p99" "$errors"
  lines+=("| $1 | $2 | $rps | $p50 | $p99 | $errors |")
}
for c in 16 64; do
  run health "$c" get.lua /v1/health
  run send "$c" send.lua /v1/otp/send
  run flow "$c" flow.lua /v1/otp/send
done
run "GET /v1/otp" 16 get.lua "/v1/otp"
run "GET /v1/logs" 16 get.lua "/v1/logs"
run "GET /v1/analytics/summary" 16 get.lua "/v1/analytics/summary"

# Starvation: flow at 64 connections plus 200 idle keep-alive connections; a fresh client probes.
wrk -t1 -c64 -d"$((seconds + 4))s" -s bench/wrk/flow.lua "$base/v1/otp/send" >/dev/null 2>&1 &
load=$!
probe=$(python3 bench/starvation.py "$port" 200 "$((seconds + 3))")
wait "$load" || true
read -r _ probe_p50 probe_max probe_count probe_failures <<<"$probe"
printf '%-28s %s\n' "starvation probe" "fresh GET /v1/health p50 ${probe_p50} ms, max ${probe_max} ms over ${probe_count} probes, ${probe_failures} failed (64 flow + 200 idle)"
printf '%-28s idle %s MB, peak %s MB\n' "RSS" "$idle_rss" "$(hwm)"

{
  echo
  echo "### bench/run.sh, durability $durability — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -srm)"
  echo
  echo "wrk -t1, ${seconds} s per scenario, keep-alive. ${BENCH_NOTE:-}"
  echo
  echo "| scenario | connections | req/s | p50 | p99 | errors |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${lines[@]}"
  echo
  echo "Starvation probe (64 flow + 200 idle connections): fresh GET /v1/health p50 ${probe_p50} ms, max ${probe_max} ms, ${probe_failures} failed of $((probe_count + probe_failures))."
  echo "RSS: idle ${idle_rss} MB, peak $(hwm) MB."
} >> bench/RESULTS.md
