#!/usr/bin/env bash
# A/B benchmark of the HTTP edge: for each binary given, in alternating rounds on fresh
# databases, measures
#   health   GET /v1/health, 16 keep-alive connections (req/s)
#   flow     send + verify with the returned testCode, 16 connections (pairs/s = verifies the
#            server itself counted as verified, from its analytics summary)
#   idle CPU the server's CPU while 1,000 keep-alive connections sit idle for 10 s (% of a core)
#   probe    a fresh client's GET /v1/health while 64 connections run flow and 1,000 sit idle
# and prints the median of the rounds per binary.
#   bench/edge.sh OLD_BINARY NEW_BINARY [ROUNDS]       (SECONDS_PER_RUN=5)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${3:-3}
seconds=${SECONDS_PER_RUN:-5}
command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }
binaries=("$1" "$2")
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

start_server() {  # binary
  local db="$work/bench-$RANDOM.sqlite"
  "$1" developer create --email bench@example.com --plan unlimited --db "$db" >/dev/null
  token=$("$1" token --email bench@example.com --db "$db")
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local big=100000000
  "$1" --db "$db" --listen "127.0.0.1:$port" --send-rate-limit $big --verify-rate-limit $big \
    --phone-send-limit $big --phone-failure-limit $big 2>/dev/null &
  server=$!
  base="http://127.0.0.1:$port"
  for _ in $(seq 100); do curl -fs "$base/v1/health" >/dev/null && break; sleep 0.1; done
  local auth=(-H "Authorization: Bearer $token" -H 'content-type: application/json')
  local project
  project=$(curl -fs "$base/v1/projects" "${auth[@]}" -d '{"name":"bench"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["data"]["id"])')
  curl -fs "$base/v1/applications" "${auth[@]}" -d "{\"name\":\"bench\",\"projectId\":\"$project\",\"environment\":\"test\"}" > "$work/app.json"
  eval "$(python3 -c '
import json; d=json.load(open("'"$work"'/app.json"))["data"]
print("export COBINAR_CLIENT_ID=%s COBINAR_CLIENT_SECRET=%s COBINAR_API_KEY=%s" % (d["clientId"], d["clientSecret"], d["apiKey"]))')"
}

stop_server() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }

wrk_rps() {  # connections script path -> req/s of 2xx answers only
  local out total errors
  out=$(wrk -t1 -c"$1" -d"${seconds}s" -s "bench/wrk/$2" "$base$3" 2>&1)
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $4}' <<<"$out")
  python3 -c "print(round(($total - ${errors:-0}) / $seconds))"
}

verified_count() {
  curl -fs "$base/v1/analytics/summary" -H "Authorization: Bearer $token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["otpVerified"])'
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }

declare -A results
for round in $(seq "$rounds"); do
  for index in 0 1; do
    binary=${binaries[$index]}
    start_server "$binary"
    wrk -t1 -c16 -d2s -s bench/wrk/get.lua "$base/v1/health" >/dev/null 2>&1  # warm-up
    health=$(wrk_rps 16 get.lua /v1/health)
    # A pair is a verify that answered `verified`: counted by the server itself (its analytics
    # counter moves in the same transaction as the verify), not by wrk, whose 2xx total mixes
    # sends and verifies and whose single Lua state can overwrite a pending code.
    before_verified=$(verified_count)
    wrk_rps 16 flow.lua /v1/otp/send >/dev/null
    flow=$(( ($(verified_count) - before_verified) / seconds ))
    # Idle CPU: 1,000 keep-alive connections that asked once and wait (--keep-alive-timeout is
    # 5 s, so each reconnects when closed, as a real pool would).
    python3 bench/starvation.py "$port" 1000 14 >/dev/null &
    holder=$!
    sleep 3
    before=$(cpu_ticks)
    sleep 10
    idle_cpu=$(( ($(cpu_ticks) - before) * 100 / $(getconf CLK_TCK) / 10 ))
    wait "$holder" || true
    wrk -t1 -c64 -d"$((seconds + 4))s" -s bench/wrk/flow.lua "$base/v1/otp/send" >/dev/null 2>&1 &
    load=$!
    read -r _ probe_p50 probe_max _ probe_failures <<<"$(python3 bench/starvation.py "$port" 1000 "$((seconds + 3))")"
    wait "$load" || true
    stop_server
    results[$index]+="$health $flow $idle_cpu $probe_p50 $probe_max $probe_failures;"
    echo "round $round ${binary}: health $health req/s, flow $flow pairs/s, idle CPU ${idle_cpu}%, probe p50 ${probe_p50} ms max ${probe_max} ms failures $probe_failures" >&2
  done
done

for index in 0 1; do
  python3 - "${binaries[$index]}" "${results[$index]}" <<'EOF'
import statistics, sys
rows = [list(map(float, r.split())) for r in sys.argv[2].split(";") if r.strip()]
med = [statistics.median(col) for col in zip(*rows)]
print(f"{sys.argv[1]}: median of {len(rows)} rounds: health {med[0]:.0f} req/s, flow {med[1]:.0f} pairs/s, "
      f"idle CPU (1,000 connections) {med[2]:.0f} % of a core, fresh-client probe p50 {med[3]:.1f} ms, "
      f"max {med[4]:.1f} ms, failures {med[5]:.0f}")
EOF
done
