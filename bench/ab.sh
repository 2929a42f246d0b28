#!/usr/bin/env bash
# A/B of two server binaries on the flow scenario, for a change on the hot path:
#   bench/ab.sh BINARY_A BINARY_B [ROUNDS]        (default 4 rounds)
# Each round starts a fresh server of A, then of B (then B first next round), each on a new
# database with a test application and rate limits out of the way, drives a warm-up and one
# measured wrk run of bench/wrk/flow.lua (verified pairs only), and stops it. Prints every run,
# then per binary the median (min – max) of verified pairs/s and the median p50/p99, and the
# ratio B ÷ A of the medians. Machine-wide noise on a shared 2-core host is ±15 % or more
# between minutes, which is why the binaries alternate.
#
# Environment: AB_DURABILITY=full|normal (full)  AB_CONNECTIONS=16  AB_SECONDS=8  AB_WARMUP=3
#              AB_EXTRA_ARGS="..." (more server flags for both)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n 2,11p "$0" >&2; exit 2; }
rounds=${3:-4}
durability=${AB_DURABILITY:-full}
connections=${AB_CONNECTIONS:-16}
seconds=${AB_SECONDS:-8}
warmup=${AB_WARMUP:-3}
command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cp "$1" "$work/A"
cp "$2" "$work/B"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

one_run() {  # label -> prints "label pairs_per_s p50_ms p99_ms errors"
  local label=$1 binary=$work/$1 db port token auth project
  db=$work/$label-$RANDOM.sqlite
  "$binary" developer create --email ab@example.com --plan unlimited --db "$db" >/dev/null
  token=$("$binary" token --email ab@example.com --db "$db")
  port=$(free_port)
  "$binary" --db "$db" --listen "127.0.0.1:$port" --durability "$durability" --send-rate-limit 100000000 \
    --verify-rate-limit 100000000 --phone-send-limit 100000000 --phone-failure-limit 100000000 \
    ${AB_EXTRA_ARGS:-} 2>/dev/null &
  server_pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
  auth=(-H "Authorization: Bearer $token" -H 'content-type: application/json')
  project=$(curl -fs "http://127.0.0.1:$port/v1/projects" "${auth[@]}" -d '{"name":"ab"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
  read -r COBINAR_CLIENT_ID COBINAR_CLIENT_SECRET COBINAR_API_KEY < <(curl -fs "http://127.0.0.1:$port/v1/applications" \
    "${auth[@]}" -d "{\"name\":\"ab\",\"projectId\":\"$project\",\"environment\":\"test\"}" |
    python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(d["clientId"], d["clientSecret"], d["apiKey"])')
  export COBINAR_CLIENT_ID COBINAR_CLIENT_SECRET COBINAR_API_KEY
  BENCH_RUN_ID=1 wrk -t1 -c"$connections" -d"${warmup}s" -s bench/wrk/flow.lua "http://127.0.0.1:$port/v1/otp/send" >/dev/null 2>&1 || true
  BENCH_RUN_ID=2 wrk -t1 -c"$connections" -d"${seconds}s" --timeout 5s -s bench/wrk/flow.lua \
    "http://127.0.0.1:$port/v1/otp/send" 2>&1 | python3 -c '
import re, sys
label = sys.argv[1]
m = re.search(r"^FLOW (.*)$", sys.stdin.read(), re.M)
v = {k: int(x) for k, x in (kv.split("=") for kv in m.group(1).split())} if m else None
if not v:
    print(label, 0, 0, 0, -1)
else:
    errors = v["status_errors"] + v["other"] + v["connect"] + v["read"] + v["write"] + v["timeout"]
    print(label, round(v["pairs"] / (v["duration_us"] / 1e6)), v["p50_us"] / 1000, v["p99_us"] / 1000, errors)' "$label"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  rm -f "$db" "$db"-*
}

echo "A = $1"
echo "B = $2"
echo "flow, durability $durability, $connections connections, ${seconds} s runs after ${warmup} s warm-up, $rounds rounds"
results=$work/results
for round in $(seq "$rounds"); do
  if [ $((round % 2)) = 1 ]; then order="A B"; else order="B A"; fi
  for label in $order; do one_run "$label" | tee -a "$results"; done
done
python3 - "$results" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    label, rate, p50, p99, errors = line.split()
    runs.setdefault(label, []).append((float(rate), float(p50), float(p99), int(errors)))
med = {}
for label in ("A", "B"):
    r = runs.get(label, [])
    rates = [x[0] for x in r]
    med[label] = statistics.median(rates)
    print(f"{label}: median {med[label]:.0f} verified pairs/s ({min(rates):.0f} – {max(rates):.0f}), "
          f"p50 {statistics.median(x[1] for x in r):.2f} ms, p99 {statistics.median(x[2] for x in r):.2f} ms, "
          f"errors {sum(x[3] for x in r)}")
print(f"B ÷ A = {med['B'] / max(1, med['A']):.3f}")
EOF
