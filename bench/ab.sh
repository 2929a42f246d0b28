#!/usr/bin/env bash
# A/B of two server binaries on the flow scenario, for a change on the hot path:
#   bench/ab.sh BINARY_A BINARY_B [ROUNDS]        (default 4 rounds)
# Each round starts a fresh server of A, then of B (then B first next round), each on a new
# database with a test application and rate limits out of the way, drives a warm-up and one
# measured wrk run of bench/wrk/flow.lua (verified pairs only), and stops it. Prints every run,
# then per binary the median (min – max) of verified pairs/s and the median p50/p99, the ratio
# B ÷ A of the medians, and the median of the per-round ratios (B ÷ A within each round). The
# machine's speed shifts by up to 1.6× between minutes (measured: rounds at ~2,000 and ~3,100
# pairs/s for the same binary), which is why the binaries alternate and why the per-round
# ratio, taken from two runs seconds apart, is the figure to read. Also printed: the server's
# CPU time (user + system, from /proc) per verified pair, which moves less with the machine.
#
# Environment: AB_DURABILITY=full|normal (full)  AB_CONNECTIONS=16  AB_SECONDS=8  AB_WARMUP=3
#              AB_EXTRA_ARGS="..." (more server flags for both)
#              AB_ENV_A / AB_ENV_B="NAME=value ..."  environment for that side's server only
#              AB_WRK_ENV_A / AB_WRK_ENV_B="NAME=value ..."  environment for that side's load (e.g.
#                BENCH_IDEMPOTENCY_KEYS=1: the same binary keyed against unkeyed)
#              AB_SQL_A / AB_SQL_B="..."  SQL run on that side's fresh database before it starts
#                (e.g. the same binary on both sides, one with an index put back)
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
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # the server's user + system CPU so far
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

one_run() {  # label -> prints "label pairs_per_s p50_ms p99_ms errors"
  local label=$1 binary=$work/$1 db port token auth project
  db=$work/$label-$RANDOM.sqlite
  "$binary" developer create --email ab@example.com --plan unlimited --db "$db" >/dev/null
  token=$("$binary" token --email ab@example.com --db "$db")
  local sql_var=AB_SQL_$label env_var=AB_ENV_$label wrk_env_var=AB_WRK_ENV_$label
  if [ -n "${!sql_var:-}" ]; then
    command -v sqlite3 >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq sqlite3 >/dev/null; }
    sqlite3 "$db" "${!sql_var}"
  fi
  port=$(free_port)
  env ${!env_var:-} "$binary" --db "$db" --listen "127.0.0.1:$port" --durability "$durability" --send-rate-limit 100000000 \
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
  env ${!wrk_env_var:-} BENCH_RUN_ID=1 wrk -t1 -c"$connections" -d"${warmup}s" -s bench/wrk/flow.lua "http://127.0.0.1:$port/v1/otp/send" >/dev/null 2>&1 || true
  local cpu_before cpu_after out
  cpu_before=$(cpu_ticks "$server_pid")
  out=$(env ${!wrk_env_var:-} BENCH_RUN_ID=2 wrk -t1 -c"$connections" -d"${seconds}s" --timeout 5s -s bench/wrk/flow.lua \
    "http://127.0.0.1:$port/v1/otp/send" 2>&1) || true
  cpu_after=$(cpu_ticks "$server_pid")
  python3 -c '
import os, re, sys
label, cpu_seconds = sys.argv[1], (int(sys.argv[3]) - int(sys.argv[2])) / os.sysconf("SC_CLK_TCK")
m = re.search(r"^FLOW (.*)$", sys.stdin.read(), re.M)
v = {k: int(x) for k, x in (kv.split("=") for kv in m.group(1).split())} if m else None
if not v:
    print(label, 0, 0, 0, -1, 0)
else:
    errors = v["status_errors"] + v["other"] + v["connect"] + v["read"] + v["write"] + v["timeout"]
    print(label, round(v["pairs"] / (v["duration_us"] / 1e6)), v["p50_us"] / 1000, v["p99_us"] / 1000, errors,
          round(cpu_seconds * 1e6 / max(1, v["pairs"])))' "$label" "$cpu_before" "$cpu_after" <<<"$out"
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
  for label in $order; do one_run "$label" | sed "s/\$/ $round/" | tee -a "$results"; done
done
python3 - "$results" <<'EOF'
import statistics, sys
runs = {}
by_round = {}
for line in open(sys.argv[1]):
    label, rate, p50, p99, errors, cpu, round_ = line.split()
    runs.setdefault(label, []).append((float(rate), float(p50), float(p99), int(errors), float(cpu)))
    by_round.setdefault(round_, {})[label] = float(rate)
med = {}
for label in ("A", "B"):
    r = runs.get(label, [])
    rates = [x[0] for x in r]
    med[label] = statistics.median(rates)
    print(f"{label}: median {med[label]:.0f} verified pairs/s ({min(rates):.0f} – {max(rates):.0f}), "
          f"p50 {statistics.median(x[1] for x in r):.2f} ms, p99 {statistics.median(x[2] for x in r):.2f} ms, "
          f"errors {sum(x[3] for x in r)}, server CPU {statistics.median(x[4] for x in r):.0f} µs per pair")
print(f"B ÷ A = {med['B'] / max(1, med['A']):.3f} (medians)")
ratios = sorted(r["B"] / r["A"] for r in by_round.values() if r.get("A") and r.get("B"))
print("per-round B ÷ A: " + " ".join(f"{x:.3f}" for x in ratios) + f"; median {statistics.median(ratios):.3f}")
EOF
