#!/usr/bin/env bash
# Webhooks keep up: one receiver on loopback (bench/webhooks/receiver.js, Node, answers 200 at
# once) subscribed to every event of the bench application; the flow (send + verify,
# bench/wrk/flow.lua) at full speed for WEBHOOK_SECONDS; then wait until every event created
# since the webhook exists has been received (the server's own events table says how many).
#   bench/webhooks.sh [full|normal]
# Per run (a fresh server and database each, a 2 s warm-up flow that is drained first):
#   latency   receive time − the event's createdAt (from the delivered body), p50/p99/max, for
#             the events created during the load
#   backlog   per second from the load's start: events created, deliveries received, backlog
#             (created − received so far), until drained
#   drain     time from the end of the load to the last delivery of an event created by it
# Prints each run and the median of the runs; appends to bench/RESULTS.md (BENCH_RECORD=0: don't).
# Environment: BENCH_BINARY (else scripts/build.sh), WEBHOOK_SECONDS=10,
#   WEBHOOK_CONNECTIONS=16, RUNS=3, DRAIN_LIMIT=120 (seconds to wait for the backlog)
set -euo pipefail
cd "$(dirname "$0")/.."
durability=${1:-full}
seconds=${WEBHOOK_SECONDS:-10}
connections=${WEBHOOK_CONNECTIONS:-16}
runs=${RUNS:-3}
drain_limit=${DRAIN_LIMIT:-120}
if [ -n "${BENCH_BINARY:-}" ]; then source_binary=$BENCH_BINARY; else scripts/build.sh >/dev/null; source_binary=build/cobinar-phone; fi
command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }
work=$(mktemp -d)
server=""
receiver=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; [ -n "$receiver" ] && kill "$receiver" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
cp "$source_binary" "$work/cobinar-phone"
binary=$work/cobinar-phone
version=$("$binary" --version 2>/dev/null || echo unknown)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }

events_since() {  # db iso-time -> events in the server's own table created at or after it
  python3 -c 'import sqlite3,sys; print(sqlite3.connect("file:"+sys.argv[1]+"?mode=ro", uri=True).execute("select count(*) from events where created_at >= ?", (sys.argv[2],)).fetchone()[0])' "$1" "$2"
}

run_flow() {  # seconds
  BENCH_RUN_ID=$((RANDOM % 300)) wrk -t1 -c"$connections" -d"$1s" --timeout 5s -s bench/wrk/flow.lua "$base/v1/otp/send" 2>&1 | grep '^FLOW' || true
}

wait_drained() {  # db since -> 0 when every event since then was received, 1 after DRAIN_LIMIT
  local expected received last=-1 stalled_since deadline
  deadline=$(( $(date +%s) + drain_limit ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    expected=$(events_since "$1" "$2")
    received=$(curl -fs "$receiver_base/count")
    [ "$received" -ge "$expected" ] && return 0
    sleep 0.2
  done
  echo "not drained after ${drain_limit} s: received $received of $expected" >&2
  return 1
}

results=()
curves=()
for run in $(seq "$runs"); do
  db="$work/webhooks-$run.sqlite"
  "$binary" developer create --email bench@example.com --plan unlimited --db "$db" >/dev/null
  token=$("$binary" token --email bench@example.com --db "$db")
  port=$(free_port)
  big=100000000
  "$binary" --db "$db" --listen "127.0.0.1:$port" --durability "$durability" \
    --send-rate-limit $big --verify-rate-limit $big --phone-send-limit $big --phone-failure-limit $big \
    --webhook-allow-http --webhook-allow-private ${BENCH_SERVER_ARGS:-} 2>>"$work/server.log" &
  server=$!
  base="http://127.0.0.1:$port"
  for _ in $(seq 200); do curl -fs "$base/v1/health" >/dev/null && break; sleep 0.1; done
  rm -f "$work/receiver.port"
  node bench/webhooks/receiver.js "$work/receiver.port" &
  receiver=$!
  for _ in $(seq 100); do [ -s "$work/receiver.port" ] && break; sleep 0.1; done
  receiver_base="http://127.0.0.1:$(cat "$work/receiver.port")"
  auth=(-H "Authorization: Bearer $token" -H 'content-type: application/json')
  project=$(curl -fs "$base/v1/projects" "${auth[@]}" -d '{"name":"bench"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["data"]["id"])')
  curl -fs "$base/v1/applications" "${auth[@]}" -d "{\"name\":\"bench\",\"projectId\":\"$project\",\"environment\":\"test\"}" > "$work/app.json"
  read -r app_id COBINAR_CLIENT_ID COBINAR_CLIENT_SECRET COBINAR_API_KEY < <(python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))["data"]; print(d["id"], d["clientId"], d["clientSecret"], d["apiKey"])' "$work/app.json")
  export COBINAR_CLIENT_ID COBINAR_CLIENT_SECRET COBINAR_API_KEY
  webhook_created=$(curl -fs "$base/v1/webhooks" "${auth[@]}" -d "{\"appId\":\"$app_id\",\"url\":\"$receiver_base/hook\",\"events\":[\"otp.created\",\"otp.verified\",\"otp.failed\",\"otp.expired\",\"identity.created\",\"identity.updated\",\"application.created\",\"application.deleted\"]}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["createdAt"])')
  run_flow 2 >/dev/null  # warm-up, drained before the measured load
  wait_drained "$db" "$webhook_created" || true
  before=$(curl -fs "$receiver_base/count")
  t0=$(now_ms)
  t0_iso=$(python3 -c 'import datetime,sys; print(datetime.datetime.fromtimestamp(int(sys.argv[1])/1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]+"Z")' "$t0")
  flow=$(run_flow "$seconds")
  t1=$(now_ms)
  drained=yes
  wait_drained "$db" "$webhook_created" || drained=no
  expected=$(events_since "$db" "$t0_iso")
  curl -fs "$receiver_base/dump" > "$work/dump-$run.jsonl"
  line=$(python3 - "$work/dump-$run.jsonl" "$t0" "$t1" "$expected" "$drained" "$flow" <<'EOF'
import json, math, sys
path, t0, t1, expected, drained, flow = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
seen, rows = set(), []
for line in open(path):
    line = line.strip()
    if not line: continue
    received, created, eid, event = json.loads(line)
    if created is None or created < t0 or eid in seen: continue
    seen.add(eid); rows.append((received, created))
def pct(values, p):
    if not values: return float("nan")
    values = sorted(values); return values[min(len(values) - 1, int(math.ceil(p / 100 * len(values))) - 1)]
during = [r - c for r, c in rows if c <= t1]
last = max((r for r, c in rows if c <= t1), default=t1)
drain = max(0.0, (last - t1) / 1000)
pairs = dict(kv.split("=") for kv in flow.split()[1:]) if flow else {}
pairs_per_s = int(pairs.get("pairs", 0)) / (int(pairs.get("duration_us", 1)) / 1e6)
# Backlog curve: per second from t0.
end = max([r for r, _ in rows] + [t1])
secs = int(math.ceil((end - t0) / 1000))
created = [0] * (secs + 1); received = [0] * (secs + 1)
for r, c in rows:
    created[min(secs, int((c - t0) // 1000))] += 1
    received[min(secs, int((r - t0) // 1000))] += 1
curve, backlog = [], 0
for s in range(secs + 1):
    backlog += created[s] - received[s]
    curve.append(f"{s}:{created[s]}/{received[s]}/{backlog}")
print(f"{pct(during,50):.0f} {pct(during,99):.0f} {max(during) if during else float('nan'):.0f} {drain:.2f} {len(rows)} {expected} {drained} {pairs_per_s:.0f} {(t1-t0)/1000:.1f} {' '.join(curve)}")
EOF
)
  read -r p50 p99 max drain received expected drained pairs load_s curve <<<"$line"
  printf 'run %s: load %s s at %s pairs/s (%s connections); event→delivery during the load p50 %s ms, p99 %s ms, max %s ms; drained %s s after the load (%s of %s events delivered, drained: %s)\n' \
    "$run" "$load_s" "$pairs" "$connections" "$p50" "$p99" "$max" "$drain" "$received" "$expected" "$drained"
  echo "  per second (created/received/backlog): $curve"
  results+=("$p50 $p99 $max $drain $pairs $received $expected")
  curves+=("| $run | $pairs | $p50 ms | $p99 ms | $max ms | $drain s | $received / $expected | $curve |")
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
  kill "$receiver"; wait "$receiver" 2>/dev/null || true; receiver=""
done

median=$(python3 - "${results[@]}" <<'EOF'
import statistics, sys
rows = [list(map(float, r.split())) for r in sys.argv[1:]]
m = lambda i: statistics.median(r[i] for r in rows)
print(f"p50 {m(0):.0f} ms (runs {min(r[0] for r in rows):.0f}–{max(r[0] for r in rows):.0f}), "
      f"p99 {m(1):.0f} ms (runs {min(r[1] for r in rows):.0f}–{max(r[1] for r in rows):.0f}), "
      f"drain {m(3):.2f} s (runs {min(r[3] for r in rows):.2f}–{max(r[3] for r in rows):.2f}), "
      f"flow {m(4):.0f} verified pairs/s during it")
EOF
)
echo "median of $runs runs: $median"

if [ "${BENCH_RECORD:-1}" = 1 ]; then
  {
    echo
    echo "### bench/webhooks.sh $durability — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -srm)"
    echo
    echo "cobinar-phone \`$version\` at \`--durability $durability\`; one Node receiver on loopback subscribed to every event; flow (wrk -t1, $connections connections) for ${seconds} s per run, a fresh server per run, a 2 s warm-up drained first. Latency = receive time − event createdAt, for events created during the load. Per-second columns: events created / deliveries received / backlog, seconds from the load's start. ${BENCH_NOTE:-}"
    echo
    echo "| run | flow pairs/s | p50 | p99 | max | drain after load | delivered / events | per second: created/received/backlog |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${curves[@]}"
    echo
    echo "Median of $runs runs: $median."
  } >> bench/RESULTS.md
  echo "recorded in bench/RESULTS.md"
fi
