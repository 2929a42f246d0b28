#!/usr/bin/env bash
# Console reads as history grows: for each size, fills a database with that many OTP events
# over DAYS days (cobinar-bench-fill: one developer, 3 applications, 50,000 identities), serves
# it, and measures with wrk (one connection) GET /v1/logs (first page), /v1/analytics/summary and
# /v1/analytics/timeseries?range=90d: a warm-up run, then RUNS runs; median (min, max) of req/s,
# medians of p50 and p99. Prints one line per endpoint and size, and appends a table with the
# sizes side by side to bench/RESULTS.md (BENCH_RECORD=0: don't).
#   bench/analytics.sh [SIZES] [DAYS]     (defaults "10000 1000000" 90)
# Environment: BENCH_BINARY (else scripts/build.sh), BENCH_FILL (default: bench/cobinar-bench-fill
#   beside the binary), READ_SECONDS=5, WARMUP_SECONDS=2, RUNS=3, READ_CONNECTIONS=1
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-10000 1000000}
days=${2:-90}
seconds=${READ_SECONDS:-5}
warmup=${WARMUP_SECONDS:-2}
runs=${RUNS:-3}
connections=${READ_CONNECTIONS:-1}
if [ -n "${BENCH_BINARY:-}" ]; then source_binary=$BENCH_BINARY; else scripts/build.sh >/dev/null; source_binary=build/cobinar-phone; fi
source_fill=${BENCH_FILL:-$(dirname "$source_binary")/bench/cobinar-bench-fill}
command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }

work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
cp "$source_binary" "$work/cobinar-phone"
cp "$source_fill" "$work/fill"
binary=$work/cobinar-phone
version=$("$binary" --version 2>/dev/null || echo unknown)
endpoints=("GET /v1/logs (first page)|/v1/logs" "GET /v1/analytics/summary|/v1/analytics/summary" "GET /v1/analytics/timeseries?range=90d|/v1/analytics/timeseries?range=90d")

wrk_once() {  # path seconds -> "req/s p50_ms p99_ms errors"
  local out
  out=$(COBINAR_TOKEN=$token wrk -t1 -c"$connections" -d"$2s" --timeout 5s -s bench/wrk/get.lua "http://127.0.0.1:$port$1" 2>&1) || true
  python3 - "$out" <<'EOF'
import re, sys
m = re.search(r"^WRK (.*)$", sys.argv[1], re.M)
if not m: sys.stderr.write(sys.argv[1]); print("0 0 0 -1"); sys.exit()
v = {k: int(x) for k, x in (kv.split("=") for kv in m.group(1).split())}
errors = v["status_errors"] + v["connect"] + v["read"] + v["write"] + v["timeout"]
print(f'{v["requests"] / (v["duration_us"] / 1e6):.1f} {v["p50_us"]/1000:.2f} {v["p99_us"]/1000:.2f} {errors}')
EOF
}

declare -A cell
header="| endpoint |"
rule="|---|"
for size in $sizes; do
  db="$work/history-$size.sqlite"
  fill_start=$(date +%s)
  "$work/fill" "$db" "$size" "$days" >/dev/null 2>&1
  fill_seconds=$(( $(date +%s) - fill_start ))
  db_size=$(du -h "$db" | cut -f1)
  echo "database: $size events over $days days ($db_size), filled in ${fill_seconds} s"
  header+=" $size events ($db_size) |"
  rule+="---|"
  token=$("$binary" token --email bench@example.com --db "$db")
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$binary" --db "$db" --listen "127.0.0.1:$port" --durability normal 2>/dev/null &
  server=$!
  for _ in $(seq 200); do curl -fs "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
  for entry in "${endpoints[@]}"; do
    name=${entry%%|*}
    path=${entry#*|}
    wrk_once "$path" "$warmup" >/dev/null
    rows=""
    for _ in $(seq "$runs"); do rows+="$(wrk_once "$path" "$seconds");"; done
    read -r med min max p50 p99 errors <<<"$(python3 - "$rows" <<'EOF'
import statistics, sys
rows = [list(map(float, r.split())) for r in sys.argv[1].split(";") if r.strip()]
rates = [r[0] for r in rows]
print(f"{statistics.median(rates):.0f} {min(rates):.0f} {max(rates):.0f} {statistics.median(r[1] for r in rows):.2f} "
      f"{statistics.median(r[2] for r in rows):.2f} {sum(int(r[3]) for r in rows)}")
EOF
)"
    printf '%-40s %8s events  %6s req/s (min %s, max %s)  p50 %6s ms  p99 %6s ms  errors %s\n' "$name" "$size" "$med" "$min" "$max" "$p50" "$p99" "$errors"
    cell[$name]+=" $med req/s ($min – $max), p50 $p50 ms, p99 $p99 ms, errors $errors |"
  done
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
  rm -f "$db" "$db"-*
done

if [ "${BENCH_RECORD:-1}" = 1 ]; then
  {
    echo
    echo "### bench/analytics.sh: console reads at $(echo "$sizes" | sed 's/ / and /g') events over $days days — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -srm)"
    echo
    echo "cobinar-phone \`$version\`, databases filled by cobinar-bench-fill (one developer, 3 applications, 50,000 identities), wrk -t1 -c$connections, a ${warmup} s warm-up, then $runs runs of ${seconds} s: median req/s (min – max), medians of p50 and p99. ${BENCH_NOTE:-}"
    echo
    echo "$header"
    echo "$rule"
    for entry in "${endpoints[@]}"; do name=${entry%%|*}; echo "| \`$name\` |${cell[$name]}"; done
  } >> bench/RESULTS.md
  echo "recorded in bench/RESULTS.md"
fi
