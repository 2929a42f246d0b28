#!/usr/bin/env bash
# The abuse controls' cost on the send path (SPEC §17), one binary, two policies, same run:
#   bench/abuse.sh [BINARY] [ROUNDS]        (default build/cobinar-phone, 4 rounds)
# Side A: a live application whose policy switches the conversion breaker off. Side B: the
# breaker on and counting every send (minConversion 0, so it never blocks and every send pays
# the full count). Both keep the default number-type rule. Each round starts a fresh server per
# side (alternating which goes first) with --sms-driver inbox, warms up, then drives
# bench/wrk/send_live.lua (distinct GB mobiles over 40 prefixes; only 201s counted). Prints each
# run, per side the median accepted sends/s, p50/p99 and server CPU per send, and the median of
# the per-round ratios B ÷ A (the figure to read on this noisy machine).
# Environment: AB_DURABILITY=full|normal (full)  AB_CONNECTIONS=16  AB_SECONDS=8  AB_WARMUP=3
#              BENCH_DB=postgres://… (PostgreSQL instead of a fresh SQLite file per run)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$(realpath "${1:-build/cobinar-phone}")
rounds=${2:-4}
durability=${AB_DURABILITY:-full}
connections=${AB_CONNECTIONS:-16}
seconds=${AB_SECONDS:-8}
warmup=${AB_WARMUP:-3}
command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }
policy_A='{"conversionBreaker":{"enabled":false}}'
policy_B='{"conversionBreaker":{"enabled":true,"minConversion":0}}'

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

one_run() {  # label round -> prints "label sends_per_s p50_ms p99_ms errors cpu_us_per_send"
  local label=$1 round=$2 db port token auth project policy_var=policy_$1 email
  db=${BENCH_DB:-$work/$label-$RANDOM.sqlite}
  email="ab-$label-$round-$RANDOM@example.com"
  "$binary" developer create --email "$email" --plan unlimited --db "$db" --key-file "$work/key" >/dev/null
  token=$("$binary" token --email "$email" --db "$db" --key-file "$work/key")
  port=$(free_port)
  "$binary" --db "$db" --key-file "$work/key" --listen "127.0.0.1:$port" --durability "$durability" --sms-driver inbox \
    --send-rate-limit 100000000 --verify-rate-limit 100000000 --phone-send-limit 100000000 2>/dev/null &
  server_pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
  auth=(-H "Authorization: Bearer $token" -H 'content-type: application/json')
  project=$(curl -fs "http://127.0.0.1:$port/v1/projects" "${auth[@]}" -d '{"name":"ab"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
  read -r app COBINAR_CLIENT_ID COBINAR_CLIENT_SECRET COBINAR_API_KEY < <(curl -fs "http://127.0.0.1:$port/v1/applications" \
    "${auth[@]}" -d "{\"name\":\"ab\",\"projectId\":\"$project\",\"environment\":\"live\"}" |
    python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(d["id"], d["clientId"], d["clientSecret"], d["apiKey"])')
  export COBINAR_CLIENT_ID COBINAR_CLIENT_SECRET COBINAR_API_KEY
  curl -fs -X PUT "http://127.0.0.1:$port/v1/applications/$app/policy" "${auth[@]}" -d "${!policy_var}" >/dev/null
  BENCH_RUN_ID=$((round * 2)) wrk -t1 -c"$connections" -d"${warmup}s" -s bench/wrk/send_live.lua "http://127.0.0.1:$port" >/dev/null 2>&1 || true
  local cpu_before cpu_after out
  cpu_before=$(cpu_ticks "$server_pid")
  out=$(BENCH_RUN_ID=$((round * 2 + 1)) wrk -t1 -c"$connections" -d"${seconds}s" --timeout 5s -s bench/wrk/send_live.lua \
    "http://127.0.0.1:$port" 2>&1) || true
  cpu_after=$(cpu_ticks "$server_pid")
  python3 -c '
import os, re, sys
label, cpu_seconds = sys.argv[1], (int(sys.argv[3]) - int(sys.argv[2])) / os.sysconf("SC_CLK_TCK")
m = re.search(r"^SENDS (.*)$", sys.stdin.read(), re.M)
v = {k: int(x) for k, x in (kv.split("=") for kv in m.group(1).split())} if m else None
if not v:
    print(label, 0, 0, 0, -1, 0)
else:
    errors = v["other"] + v["connect"] + v["read"] + v["write"] + v["timeout"]
    print(label, round(v["ok"] / (v["duration_us"] / 1e6)), v["p50_us"] / 1000, v["p99_us"] / 1000, errors,
          round(cpu_seconds * 1e6 / max(1, v["ok"])))' "$label" "$cpu_before" "$cpu_after" <<<"$out"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  [ -n "${BENCH_DB:-}" ] || rm -f "$db" "$db"-*
}

echo "binary = $binary"
echo "A = breaker off: $policy_A"
echo "B = breaker counting every send: $policy_B"
echo "send-only to live numbers, durability $durability, $connections connections, ${seconds} s runs after ${warmup} s warm-up, $rounds rounds"
results=$work/results
for round in $(seq "$rounds"); do
  if [ $((round % 2)) = 1 ]; then order="A B"; else order="B A"; fi
  for label in $order; do one_run "$label" "$round" | sed "s/\$/ $round/" | tee -a "$results"; done
done
python3 - "$results" <<'PY'
import statistics, sys
runs, by_round = {}, {}
for line in open(sys.argv[1]):
    label, rate, p50, p99, errors, cpu, round_ = line.split()
    runs.setdefault(label, []).append((float(rate), float(p50), float(p99), int(errors), float(cpu)))
    by_round.setdefault(round_, {})[label] = float(rate)
for label in ("A", "B"):
    r = runs.get(label, [])
    rates = [x[0] for x in r]
    print(f"{label}: median {statistics.median(rates):.0f} accepted sends/s ({min(rates):.0f} – {max(rates):.0f}), "
          f"p50 {statistics.median(x[1] for x in r):.2f} ms, p99 {statistics.median(x[2] for x in r):.2f} ms, "
          f"errors {sum(x[3] for x in r)}, server CPU {statistics.median(x[4] for x in r):.0f} µs per send")
ratios = sorted(r["B"] / r["A"] for r in by_round.values() if r.get("A") and r.get("B"))
print("per-round B ÷ A: " + " ".join(f"{x:.3f}" for x in ratios) + f"; median {statistics.median(ratios):.3f}")
PY
