#!/usr/bin/env bash
# The performance benchmark, ours against the peer, in one invocation:
#   bench/run.sh [full|normal]          (cobinar-phone's --durability, default full)
#
# Starts cobinar-phone on a fresh database (a test application, rate limits out of the way)
# and the peer (bench/peer: the same send/verify flow in Node — Fastify + better-sqlite3, WAL,
# synchronous=NORMAL, node:cluster with one worker per core — installed with `npm ci` when
# missing), then drives keep-alive load with wrk (one thread):
#   health   GET /v1/health                                 ours            16 and 64 connections
#   send     POST /v1/otp/send                              ours            16 and 64 connections
#   flow     send, then verify with the returned testCode   ours and peer   16 and 64 connections
#   reads    GET /v1/otp, /v1/logs, /v1/analytics/summary   ours, on a database seeded by
#            cobinar-bench-fill to BENCH_SEED_EVENTS events (never on what the load wrote)
#   probe    a fresh client's GET /v1/health while 64 connections run flow and 200 sit idle
# Every scenario: one warm-up run (not counted), then RUNS measured runs; ours and the peer
# alternate run by run. Reported: the median with min and max. A flow pair counts only when
# its verify answered 200 "verified" (bench/wrk/flow.lua); after every flow run the server's
# own count of verified requests is read (ours: GET /v1/analytics/summary otpVerified; peer: its
# database) and printed beside the harness count. Errors are wrk's: non-2xx answers plus
# socket errors (connect, read, write, timeout). Prints the ratio ours ÷ peer of verified
# pairs/s, and appends the section to bench/RESULTS.md (BENCH_RECORD=0: don't).
#
# Environment:
#   BENCH_BINARY=path      use this server binary, do not build (else scripts/build.sh runs)
#   BENCH_FILL=path        the history filler (default: bench/cobinar-bench-fill beside the binary)
#   SECONDS_PER_RUN=8      length of a measured run;  WARMUP_SECONDS=3;  RUNS=3
#   READ_SECONDS=5         length of a console-read run
#   BENCH_SEED_EVENTS=100000   size of the database for the console reads (0: skip the reads)
#   BENCH_PEER=0           skip the peer;  BENCH_PEER_WORKERS (default: nproc)
#   BENCH_ONLY=flow        run only the flow scenarios (ours and peer)
#   BENCH_NOTE=text        a note for the RESULTS.md section
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
durability=${1:-full}
seconds=${SECONDS_PER_RUN:-8}
warmup=${WARMUP_SECONDS:-3}
runs=${RUNS:-3}
read_seconds=${READ_SECONDS:-5}
seed_events=${BENCH_SEED_EVENTS:-100000}
peer_enabled=${BENCH_PEER:-1}
only=${BENCH_ONLY:-}
if [ -n "${BENCH_BINARY:-}" ]; then
  source_binary=$BENCH_BINARY
else
  scripts/build.sh >/dev/null
  source_binary=build/cobinar-phone
fi
source_fill=${BENCH_FILL:-$(dirname "$source_binary")/bench/cobinar-bench-fill}
command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }
if [ "$peer_enabled" = 1 ] && ! (cd bench/peer && node -e 'require("better-sqlite3"); require("fastify")' 2>/dev/null); then
  echo "installing the peer's packages (npm ci in bench/peer)" >&2
  (cd bench/peer && npm ci --no-audit --no-fund >&2)
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# Copies, so that a rebuild of the source binary during the run cannot swap it mid-way.
cp "$source_binary" "$work/cobinar-phone"
binary=$work/cobinar-phone
version=$("$binary" --version 2>/dev/null || echo unknown)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_health() { for _ in $(seq 200); do curl -fs "$1/v1/health" >/dev/null && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }
declare -A base client_id client_secret api_key
big=100000000

start_ours() {  # name db [extra server args...]  (db must already hold bench@example.com)
  local name=$1 db=$2 port
  shift 2
  port=$(free_port)
  "$binary" --db "$db" --listen "127.0.0.1:$port" --durability "$durability" \
    --send-rate-limit $big --verify-rate-limit $big --phone-send-limit $big --phone-failure-limit $big \
    "$@" ${BENCH_SERVER_ARGS:-} 2>>"$work/$name.log" &
  pids+=($!)
  eval "pid_$name=$!"
  base[$name]="http://127.0.0.1:$port"
  wait_health "${base[$name]}"
}

ours_app() {  # name: creates a project and a test application, sets its credentials
  local name=$1 auth project
  auth=(-H "Authorization: Bearer $COBINAR_TOKEN" -H 'content-type: application/json')
  project=$(curl -fs "${base[$name]}/v1/projects" "${auth[@]}" -d '{"name":"bench"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["data"]["id"])')
  curl -fs "${base[$name]}/v1/applications" "${auth[@]}" -d "{\"name\":\"bench\",\"projectId\":\"$project\",\"environment\":\"test\"}" > "$work/$name-app.json"
  read -r client_id[$name] client_secret[$name] api_key[$name] < <(python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))["data"]; print(d["clientId"], d["clientSecret"], d["apiKey"])' "$work/$name-app.json")
}

ours_db=$work/ours.sqlite
"$binary" developer create --email bench@example.com --plan unlimited --db "$ours_db" >/dev/null
export COBINAR_TOKEN=$("$binary" token --email bench@example.com --db "$ours_db")
start_ours ours "$ours_db"
ours_app ours
pid_server=$pid_ours
idle_rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid_server/status")

if [ "$peer_enabled" = 1 ]; then
  peer_port=$(free_port)
  node bench/peer/server.js --db "$work/peer.sqlite" --port "$peer_port" --workers "${BENCH_PEER_WORKERS:-$(nproc)}" \
    --credentials "$work/peer.json" 2>>"$work/peer.log" &
  pids+=($!)
  base[peer]="http://127.0.0.1:$peer_port"
  wait_health "${base[peer]}"
  read -r client_id[peer] client_secret[peer] api_key[peer] < <(python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); print(d["clientId"], d["clientSecret"], d["apiKey"])' "$work/peer.json")
fi

server_verified() {  # name -> the server's own count of verified OTP requests
  if [ "$1" = peer ]; then
    python3 -c 'import sqlite3,sys; print(sqlite3.connect("file:"+sys.argv[1]+"?mode=ro", uri=True).execute("select count(*) from otp_requests where status = ?", ("verified",)).fetchone()[0])' "$work/peer.sqlite"
  else
    curl -fs "${base[$1]}/v1/analytics/summary" -H "Authorization: Bearer $COBINAR_TOKEN" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["otpVerified"])'
  fi
}

run_id=0
# One wrk run; prints "rate p50_ms p99_ms errors [server_count harness_count]" (rate = pairs/s
# for flow, requests/s otherwise).
wrk_once() {  # target connections script path seconds
  local target=$1 c=$2 script=$3 path=$4 secs=$5 out before="" after=""
  run_id=$((run_id + 1))
  [ "$script" = flow.lua ] && before=$(server_verified "$target")
  out=$(BENCH_RUN_ID=$run_id COBINAR_CLIENT_ID=${client_id[$target]:-} COBINAR_CLIENT_SECRET=${client_secret[$target]:-} \
    COBINAR_API_KEY=${api_key[$target]:-} wrk -t1 -c"$c" -d"${secs}s" --timeout 5s -s "bench/wrk/$script" "${base[$target]}$path" 2>&1) || true
  [ "$script" = flow.lua ] && after=$(server_verified "$target")
  python3 - "$out" "$before" "$after" <<'EOF'
import re, sys
out, before, after = sys.argv[1], sys.argv[2], sys.argv[3]
m = re.search(r"^(FLOW|WRK) (.*)$", out, re.M)
if not m:
    sys.stderr.write("wrk gave no result line:\n" + out + "\n"); print("0 0 0 -1"); sys.exit()
v = {k: int(x) for k, x in (kv.split("=") for kv in m.group(2).split())}
secs = v["duration_us"] / 1e6
errors = v["status_errors"] + v["connect"] + v["read"] + v["write"] + v["timeout"]
if m.group(1) == "FLOW":
    rate = v["pairs"] / secs
    errors += v["other"]
    print(f'{rate:.1f} {v["p50_us"]/1000:.2f} {v["p99_us"]/1000:.2f} {errors} {int(after)-int(before)} {v["pairs"]} {v["sends"]} {v["verifies"]}')
else:
    print(f'{v["requests"]/secs:.1f} {v["p50_us"]/1000:.2f} {v["p99_us"]/1000:.2f} {errors}')
EOF
}

summarize() {  # "runs separated by ;" -> "median min max p50med p99med errors_total"
  python3 - "$1" <<'EOF'
import statistics, sys
rows = [list(map(float, r.split())) for r in sys.argv[1].split(";") if r.strip()]
rates = [r[0] for r in rows]
print(f"{statistics.median(rates):.0f} {min(rates):.0f} {max(rates):.0f} "
      f"{statistics.median(r[1] for r in rows):.2f} {statistics.median(r[2] for r in rows):.2f} {sum(int(r[3]) for r in rows)}")
EOF
}

declare -A summary
lines=()
checks=()
# measure SCENARIO CONNECTIONS SCRIPT PATH SECONDS TARGET...: a warm-up per target, then RUNS
# measured runs, the targets alternating.
measure() {
  local scenario=$1 c=$2 script=$3 path=$4 secs=$5 target run result
  shift 5
  local -A rows=()
  for target in "$@"; do wrk_once "$target" "$c" "$script" "$path" "$warmup" >/dev/null; done
  for run in $(seq "$runs"); do
    for target in "$@"; do
      result=$(wrk_once "$target" "$c" "$script" "$path" "$secs")
      rows[$target]+="$result;"
      if [ "$script" = flow.lua ]; then
        read -r _ _ _ _ server harness sends verifies <<<"$result"
        checks+=("| $scenario | $target | $c | $run | $harness | $server | $sends | $verifies |")
      fi
    done
  done
  for target in "$@"; do
    read -r med min max p50 p99 errors <<<"$(summarize "${rows[$target]}")"
    summary[$scenario/$target/$c]=$med
    local unit="req/s"
    [ "$script" = flow.lua ] && unit="pairs/s"
    printf '%-26s %-5s c=%-3s %7s %s (min %s, max %s)  p50 %6s ms  p99 %6s ms  errors %s\n' \
      "$scenario" "$target" "$c" "$med" "$unit" "$min" "$max" "$p50" "$p99" "$errors"
    lines+=("| $scenario | $target | $c | $med $unit | $min – $max | $p50 ms | $p99 ms | $errors |")
  done
}

targets=(ours)
[ "$peer_enabled" = 1 ] && targets+=(peer)
echo "cobinar-phone $version, --durability $durability; peer: Node $(node --version) Fastify + better-sqlite3, synchronous=NORMAL, ${BENCH_PEER_WORKERS:-$(nproc)} workers"
echo "wrk -t1, warm-up ${warmup} s, then $runs runs of ${seconds} s; median (min, max)"
for c in 16 64; do
  if [ -z "$only" ]; then
    measure health "$c" get.lua /v1/health "$seconds" ours
    measure send "$c" send.lua /v1/otp/send "$seconds" ours
  fi
  measure flow "$c" flow.lua /v1/otp/send "$seconds" "${targets[@]}"
done

ratios=()
if [ "$peer_enabled" = 1 ]; then
  for c in 16 64; do
    ratio=$(python3 -c "print(f'{$(echo "${summary[flow/ours/$c]}") / max(1, $(echo "${summary[flow/peer/$c]}")):.2f}')")
    ratios+=("$c connections: ours ${summary[flow/ours/$c]} ÷ peer ${summary[flow/peer/$c]} verified pairs/s = **${ratio}×**")
    printf 'RATIO flow c=%-3s ours ÷ peer = %s  (%s ÷ %s verified pairs/s)\n' "$c" "$ratio" "${summary[flow/ours/$c]}" "${summary[flow/peer/$c]}"
  done
fi

# Console reads on a database of a stated size, seeded by cobinar-bench-fill (one developer,
# 3 applications, events over 90 days), served at the same durability.
if [ -z "$only" ] && [ "$seed_events" -gt 0 ]; then
  if [ -x "$source_fill" ]; then
    cp "$source_fill" "$work/fill"
    seed_start=$(date +%s)
    "$work/fill" "$work/seeded.sqlite" "$seed_events" 90 >/dev/null 2>&1
    echo "seeded database: $seed_events events over 90 days ($(du -h "$work/seeded.sqlite" | cut -f1)) in $(( $(date +%s) - seed_start )) s"
    token_ours=$COBINAR_TOKEN
    export COBINAR_TOKEN=$("$binary" token --email bench@example.com --db "$work/seeded.sqlite")
    start_ours seeded "$work/seeded.sqlite"
    measure "GET /v1/otp" 16 get.lua "/v1/otp" "$read_seconds" seeded
    measure "GET /v1/logs" 16 get.lua "/v1/logs" "$read_seconds" seeded
    measure "GET /v1/analytics/summary" 16 get.lua "/v1/analytics/summary" "$read_seconds" seeded
    export COBINAR_TOKEN=$token_ours
    kill "$pid_seeded"; wait "$pid_seeded" 2>/dev/null || true
  else
    echo "no history filler at $source_fill (BENCH_FILL): console reads skipped" >&2
  fi
fi

probe_line=""
if [ -z "$only" ]; then
  # Starvation: flow at 64 connections plus 200 idle keep-alive connections; a fresh client probes.
  COBINAR_CLIENT_ID=${client_id[ours]} COBINAR_CLIENT_SECRET=${client_secret[ours]} COBINAR_API_KEY=${api_key[ours]} \
    wrk -t1 -c64 -d"$((seconds + 4))s" -s bench/wrk/flow.lua "${base[ours]}/v1/otp/send" >/dev/null 2>&1 &
  load=$!
  probe=$(python3 bench/starvation.py "${base[ours]##*:}" 200 "$((seconds + 3))")
  wait "$load" || true
  read -r _ probe_p50 probe_max probe_count probe_failures <<<"$probe"
  probe_line="Starvation probe (64 flow + 200 idle connections): fresh GET /v1/health p50 ${probe_p50} ms, max ${probe_max} ms, ${probe_failures} failed of $((probe_count + probe_failures))."
  echo "$probe_line"
fi
peak_rss=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid_server/status")
echo "RSS (ours): idle ${idle_rss} MB, peak ${peak_rss} MB"

echo
echo "pair-count check (harness = verifies that answered 200 verified; server = its own count of verified requests, before/after the run):"
printf '%s\n' "${checks[@]}"

if [ "${BENCH_RECORD:-1}" = 1 ]; then
  {
    echo
    echo "### bench/run.sh $durability — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -srm)"
    echo
    echo "cobinar-phone \`$version\` at \`--durability $durability\`; peer: bench/peer (Node $(node --version), Fastify + better-sqlite3, WAL, synchronous=NORMAL, ${BENCH_PEER_WORKERS:-$(nproc)} workers)."
    echo "wrk -t1, keep-alive; each scenario a ${warmup} s warm-up, then $runs runs of ${seconds} s (console reads ${read_seconds} s), ours and the peer alternating; median, min – max of the runs; p50/p99 are medians of the runs' percentiles; errors = non-2xx + socket errors summed over the measured runs. flow = verified pairs/s (a pair counts when its verify answered 200 verified); its latencies cover sends and verifies. Console reads on a database seeded with $seed_events events. ${BENCH_NOTE:-}"
    echo
    echo "| scenario | server | connections | median | min – max | p50 | p99 | errors |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${lines[@]}"
    echo
    for r in "${ratios[@]}"; do echo "Ratio, $r"; echo; done
    [ -n "$probe_line" ] && { echo "$probe_line"; echo; }
    echo "RSS (ours): idle ${idle_rss} MB, peak ${peak_rss} MB."
    echo
    echo "Pair counting checked against each server's own count of verified requests, every flow run:"
    echo
    echo "| scenario | server | connections | run | harness pairs | server verified | sends 201 | verifies sent |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${checks[@]}"
  } >> bench/RESULTS.md
  echo "recorded in bench/RESULTS.md"
fi
