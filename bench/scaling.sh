#!/usr/bin/env bash
# Measured flow pairs/s for one and two nodes on PostgreSQL next to SQLite's, in one run:
#   bench/scaling.sh
#
# Runs itself under scripts/with-postgres.sh (a throwaway PostgreSQL 15) unless
# COBINAR_TEST_POSTGRES (a superuser libpq URL, …/postgres) is already set. Scenarios, each on
# a fresh database with a test application, rate limits out of the way (as bench/run.sh):
#   sqlite   one node on a fresh SQLite file, --durability full
#   pg1      one node on a fresh PostgreSQL database (CREATE DATABASE; synchronous_commit on)
#   pg2      two nodes (two processes, two ports, one --key-file) on one fresh PostgreSQL
#            database; the load split evenly: two wrk processes at once, one per node, each with
#            half the connections; their pairs are summed, their latencies reported as the max
# For 16 and 64 connections: a warm-up run per scenario (not counted), then RUNS measured runs,
# sqlite, pg1, pg2 alternating round by round. flow = bench/wrk/flow.lua: a pair counts only
# when its verify answered 200 "verified". After every run the server's own count of verified
# requests (delta of GET /v1/analytics/summary otpVerified; for pg2 one read covers both nodes,
# they share the database) is printed beside the harness's. CPU seconds of the node processes
# (/proc/PID/stat) and of PostgreSQL (the postmaster and all its children, live and reaped) and
# of the whole machine (/proc/stat) during each measured run are reported per verified pair.
#
# One machine: PostgreSQL, the nodes and wrk share its cores. With 2 cores, two nodes cannot
# be faster than one here; pg2 shows what a second node costs, not what a second machine gains.
#
# Environment:
#   BENCH_BINARY=path     server binary (default build-edge/cobinar-phone; copied before the run)
#   SECONDS_PER_RUN=8     length of a measured run;  WARMUP_SECONDS=3;  RUNS=3
#   BENCH_CONNECTIONS="16 64"
#   BENCH_TIMEOUT=1800    the whole script is stopped after this many seconds
#   BENCH_SERVER_ARGS     extra arguments for every node
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [ -z "${COBINAR_TEST_POSTGRES:-}" ]; then
  exec scripts/with-postgres.sh "$root/bench/scaling.sh" "$@"
fi

seconds=${SECONDS_PER_RUN:-8}
warmup=${WARMUP_SECONDS:-3}
runs=${RUNS:-3}
connections=${BENCH_CONNECTIONS:-16 64}
limit=${BENCH_TIMEOUT:-1800}
source_binary=${BENCH_BINARY:-$root/build-edge/cobinar-phone}
[ -x "$source_binary" ] || { echo "no server binary at $source_binary (BENCH_BINARY)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
command -v psql >/dev/null || { echo "psql is missing (postgresql-client-15)" >&2; exit 1; }
for c in $connections; do
  [ $((c % 2)) -eq 0 ] || { echo "connections must be even (pg2 splits them): $c" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
databases=()
watchdog=""
admin_url=$COBINAR_TEST_POSTGRES
export PGCONNECT_TIMEOUT=10
psql_admin() { timeout 60 psql "$admin_url" -v ON_ERROR_STOP=1 -qAt "$@"; }
cleanup() {
  local status=$?
  trap - EXIT INT TERM HUP
  [ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  # (with scripts/with-postgres.sh the whole server goes; against another server, drop ours)
  for db in "${databases[@]}"; do psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
# The time bound: a watchdog ends the script (its EXIT trap stops every process it started).
( sleep "$limit"; echo "scaling.sh: stopped after BENCH_TIMEOUT=$limit s" >&2; kill -TERM $$ ) 2>/dev/null &
watchdog=$!

# A copy, so that a rebuild of the source binary during the run cannot swap it mid-way.
cp "$source_binary" "$work/cobinar-phone"
binary=$work/cobinar-phone
version=$(timeout 10 "$binary" --version 2>/dev/null || echo unknown)
clk_tck=$(getconf CLK_TCK)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_health() { for _ in $(seq 300); do curl -fs -m 2 "$1/v1/health" >/dev/null && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }
big=100000000
declare -A base client_id client_secret api_key token node_pid
declare -A nodes  # scenario -> its node names

# PostgreSQL: a fresh database per scenario; its URL is the admin URL with the database swapped.
pg_url_for() {  # dbname
  local u=${admin_url%%\?*} q=""
  [[ $admin_url == *\?* ]] && q="?${admin_url#*\?}"
  echo "${u%/*}/$1$q"
}
suffix=$(date +%s)_$$
pg_version=$(psql_admin -c "SHOW server_version")
pg_sync=$(psql_admin -c "SHOW synchronous_commit")/$(psql_admin -c "SHOW fsync")
# The postmaster's PID, to count PostgreSQL's CPU (only when it runs on this machine).
postmaster=""
pg_data=$(psql_admin -c "SHOW data_directory" 2>/dev/null || true)
if [ -n "$pg_data" ] && [ -r "$pg_data/postmaster.pid" ]; then
  postmaster=$(head -1 "$pg_data/postmaster.pid")
  [ -r "/proc/$postmaster/stat" ] || postmaster=""
fi
[ -n "$postmaster" ] || echo "note: PostgreSQL's postmaster is not visible here: its CPU is not counted" >&2

start_node() {  # name db [extra server args...]
  local name=$1 db=$2 port
  shift 2
  port=$(free_port)
  "$binary" --db "$db" --listen "127.0.0.1:$port" --durability full \
    --send-rate-limit $big --verify-rate-limit $big --phone-send-limit $big --phone-failure-limit $big \
    "$@" ${BENCH_SERVER_ARGS:-} 2>>"$work/$name.log" &
  pids+=($!)
  node_pid[$name]=$!
  base[$name]="http://127.0.0.1:$port"
  wait_health "${base[$name]}" || { tail -20 "$work/$name.log" >&2; return 1; }
}

make_app() {  # scenario node: a project and a test application, created through that node
  local scenario=$1 node=$2 auth project
  auth=(-m 30 -H "Authorization: Bearer ${token[$scenario]}" -H 'content-type: application/json')
  project=$(curl -fs "${base[$node]}/v1/projects" "${auth[@]}" -d '{"name":"bench"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["data"]["id"])')
  curl -fs "${base[$node]}/v1/applications" "${auth[@]}" -d "{\"name\":\"bench\",\"projectId\":\"$project\",\"environment\":\"test\"}" > "$work/$scenario-app.json"
  read -r client_id[$scenario] client_secret[$scenario] api_key[$scenario] < <(python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))["data"]; print(d["clientId"], d["clientSecret"], d["apiKey"])' "$work/$scenario-app.json")
}

# sqlite: one node on a fresh file (its key beside it, as by default).
sqlite_db=$work/sqlite.sqlite
timeout 60 "$binary" developer create --email bench@example.com --plan unlimited --db "$sqlite_db" >/dev/null
token[sqlite]=$(timeout 60 "$binary" token --email bench@example.com --db "$sqlite_db")
start_node sqlite "$sqlite_db"
nodes[sqlite]=sqlite
make_app sqlite sqlite

# pg1 and pg2: fresh databases, one key file shared by every PostgreSQL node and the CLI.
pg_key=$work/pg.key
pool=${BENCH_DB_POOL_SIZE:-16}
for scenario in pg1 pg2; do
  db=bench_${scenario}_$suffix
  psql_admin -c "CREATE DATABASE $db" >/dev/null
  databases+=("$db")
  url=$(pg_url_for "$db")
  timeout 60 "$binary" developer create --email bench@example.com --plan unlimited --db "$url" --key-file "$pg_key" >/dev/null
  token[$scenario]=$(timeout 60 "$binary" token --email bench@example.com --db "$url" --key-file "$pg_key")
  if [ "$scenario" = pg1 ]; then
    start_node pg1 "$url" --key-file "$pg_key" --db-pool-size "$pool"
    nodes[pg1]=pg1
  else
    start_node pg2a "$url" --key-file "$pg_key" --db-pool-size "$pool"
    start_node pg2b "$url" --key-file "$pg_key" --db-pool-size "$pool"
    nodes[pg2]="pg2a pg2b"
  fi
  make_app "$scenario" "${nodes[$scenario]%% *}"
done

server_verified() {  # scenario -> the server's own count of verified OTP requests
  local node=${nodes[$1]%% *}
  curl -fs -m 30 "${base[$node]}/v1/analytics/summary" -H "Authorization: Bearer ${token[$1]}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["otpVerified"])'
}

proc_ticks() {  # pid [with_children] -> utime+stime (+cutime+cstime) in ticks, 0 if gone
  local f
  f=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  f=${f##*) }
  read -r -a a <<<"$f"
  if [ "${2:-}" = children ]; then echo $((a[11] + a[12] + a[13] + a[14])); else echo $((a[11] + a[12])); fi
}
nodes_ticks() {  # scenario
  local n total=0
  for n in ${nodes[$1]}; do total=$((total + $(proc_ticks "${node_pid[$n]}"))); done
  echo "$total"
}
postgres_ticks() {  # the postmaster (with its reaped children) plus its live children
  [ -n "$postmaster" ] || { echo -1; return; }
  local total child
  total=$(proc_ticks "$postmaster" children)
  for child in $(ps -o pid= --ppid "$postmaster" 2>/dev/null); do total=$((total + $(proc_ticks "$child"))); done
  echo "$total"
}
machine_ticks() {  # busy ticks of every core (user nice system irq softirq steal)
  awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat
}

run_id=0
# One measured (or warm-up) run of a scenario; prints
#   rate p50_ms p99_ms errors server_delta harness_pairs sends verifies node_s pg_s machine_s p99s
wrk_once() {  # scenario connections seconds
  local scenario=$1 c=$2 secs=$3 n before after t0n t0p t0m t1n t1p t1m share i=0
  local -a members outs wrk_pids
  read -r -a members <<<"${nodes[$scenario]}"
  share=$((c / ${#members[@]}))
  before=$(server_verified "$scenario")
  t0n=$(nodes_ticks "$scenario"); t0p=$(postgres_ticks); t0m=$(machine_ticks)
  for n in "${members[@]}"; do
    run_id=$((run_id + 1))  # a phone range per wrk process: the two of pg2 never share a phone
    BENCH_RUN_ID=$run_id COBINAR_CLIENT_ID=${client_id[$scenario]} COBINAR_CLIENT_SECRET=${client_secret[$scenario]} \
      COBINAR_API_KEY=${api_key[$scenario]} timeout $((secs + 30)) \
      wrk -t1 -c"$share" -d"${secs}s" --timeout 5s -s bench/wrk/flow.lua "${base[$n]}/v1/otp/send" >"$work/wrk.$i" 2>&1 &
    wrk_pids+=($!)
    i=$((i + 1))
  done
  for n in "${wrk_pids[@]}"; do wait "$n" || true; done
  t1n=$(nodes_ticks "$scenario"); t1p=$(postgres_ticks); t1m=$(machine_ticks)
  after=$(server_verified "$scenario")
  python3 - "$before" "$after" "$((t1n - t0n))" "$([ "$t0p" -ge 0 ] && echo $((t1p - t0p)) || echo -1)" \
    "$((t1m - t0m))" "$clk_tck" "$work"/wrk.* <<'EOF'
import re, sys
before, after, node_t, pg_t, machine_t, hz = sys.argv[1:7]
hz = int(hz)
tot = dict(pairs=0, sends=0, verifies=0, errors=0, rate=0.0)
p50s, p99s = [], []
for path in sys.argv[7:]:
    out = open(path).read()
    m = re.search(r"^FLOW (.*)$", out, re.M)
    if not m:
        sys.stderr.write("wrk gave no result line:\n" + out + "\n")
        tot["errors"] += 1 << 20  # visible, not hidden
        continue
    v = {k: int(x) for k, x in (kv.split("=") for kv in m.group(1).split())}
    tot["rate"] += v["pairs"] / (v["duration_us"] / 1e6)
    tot["pairs"] += v["pairs"]; tot["sends"] += v["sends"]; tot["verifies"] += v["verifies"]
    tot["errors"] += v["status_errors"] + v["connect"] + v["read"] + v["write"] + v["timeout"] + v["other"]
    p50s.append(v["p50_us"] / 1000); p99s.append(v["p99_us"] / 1000)
pg = f"{int(pg_t) / hz:.2f}" if int(pg_t) >= 0 else "-1"
print(f'{tot["rate"]:.1f} {max(p50s or [0]):.2f} {max(p99s or [0]):.2f} {tot["errors"]} {int(after) - int(before)} '
      f'{tot["pairs"]} {tot["sends"]} {tot["verifies"]} {int(node_t) / hz:.2f} {pg} {int(machine_t) / hz:.2f} '
      + "/".join(f"{p:.2f}" for p in p99s))
EOF
  rm -f "$work"/wrk.*
}

summarize() {  # "runs separated by ;" -> "median min max p50med p99med errors pairs node_s pg_s machine_s"
  python3 - "$1" <<'EOF'
import statistics, sys
rows = [r.split() for r in sys.argv[1].split(";") if r.strip()]
f = lambda i: [float(r[i]) for r in rows]
rates = f(0)
pairs = sum(f(5))
pg = sum(f(9)) if min(f(9)) >= 0 else -1
print(f"{statistics.median(rates):.0f} {min(rates):.0f} {max(rates):.0f} {statistics.median(f(1)):.2f} "
      f"{statistics.median(f(2)):.2f} {int(sum(f(3)))} {int(pairs)} {sum(f(8)):.2f} {pg:.2f} {sum(f(10)):.2f}")
EOF
}
per_pair_us() { python3 -c "import sys; s, p = float(sys.argv[1]), float(sys.argv[2]); print('n/a' if s < 0 or p <= 0 else f'{s / p * 1e6:.0f}')" "$1" "$2"; }

scenarios=(sqlite pg1 pg2)
declare -A summary
lines=()
cpu_lines=()
checks=()
mismatch=0
started=$(date -u +%Y-%m-%dT%H:%MZ)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "cobinar-phone $version; PostgreSQL $pg_version (synchronous_commit/fsync $pg_sync) on this machine; $(nproc) cores"
echo "flow (bench/wrk/flow.lua), wrk -t1 per node, warm-up ${warmup} s per scenario, then $runs runs of ${seconds} s, sqlite/pg1/pg2 alternating"
echo "pg2: two nodes on one database, two wrk processes at once with half the connections each; pairs summed, latency = the max of the two"
echo "load average before: $load_before"
for c in $connections; do
  declare -A rows=()
  for s in "${scenarios[@]}"; do wrk_once "$s" "$c" "$warmup" >/dev/null; done
  for run in $(seq "$runs"); do
    for s in "${scenarios[@]}"; do
      result=$(wrk_once "$s" "$c" "$seconds")
      rows[$s]+="$result;"
      read -r rate p50 p99 errors server harness sends verifies node_s pg_s machine_s p99s <<<"$result"
      ok=yes
      # Harness pairs are answers received; the server may have verified up to one more per
      # connection (verifies in flight when wrk stopped), never fewer.
      if [ "$server" -lt "$harness" ] || [ "$server" -gt $((harness + c)) ]; then ok=NO; mismatch=1; fi
      checks+=("| $s | $c | $run | $rate | $harness | $server | $ok | $sends | $verifies | $errors | $p99s |")
      printf '  run %s c=%-3s %-6s %8s pairs/s  harness %6s  server %6s  %-3s  p99 %s ms  errors %s  cpu: nodes %s s, postgres %s s, machine %s s\n' \
        "$run" "$c" "$s" "$rate" "$harness" "$server" "$ok" "$p99s" "$errors" "$node_s" "$pg_s" "$machine_s"
    done
  done
  for s in "${scenarios[@]}"; do
    read -r med min max p50 p99 errors pairs node_s pg_s machine_s <<<"$(summarize "${rows[$s]}")"
    summary[$s/$c]=$med
    printf '%-6s c=%-3s %7s pairs/s (min %s, max %s)  p50 %6s ms  p99 %6s ms  errors %s\n' \
      "$s" "$c" "$med" "$min" "$max" "$p50" "$p99" "$errors"
    lines+=("| $s | $c | $med | $min – $max | $p50 ms | $p99 ms | $errors |")
    nodes_us=$(per_pair_us "$node_s" "$pairs"); pg_us=$(per_pair_us "$pg_s" "$pairs"); machine_us=$(per_pair_us "$machine_s" "$pairs")
    other_us=n/a
    [ "$pg_us" != n/a ] && [ "$machine_us" != n/a ] && other_us=$((machine_us - nodes_us - pg_us))
    cpu_lines+=("| $s | $c | $pairs | $node_s s | $pg_s s | $machine_s s | $nodes_us µs | $pg_us µs | $other_us µs | $machine_us µs |")
  done
  unset rows
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / max(1.0, float(sys.argv[2])):.2f}')" "$1" "$2"; }
ratio_lines=()
for c in $connections; do
  r1=$(ratio "${summary[pg1/$c]}" "${summary[sqlite/$c]}")
  r2=$(ratio "${summary[pg2/$c]}" "${summary[pg1/$c]}")
  ratio_lines+=("| $c | ${summary[sqlite/$c]} | ${summary[pg1/$c]} | ${summary[pg2/$c]} | ${r1}× | ${r2}× |")
  printf 'RATIO c=%-3s pg1 ÷ sqlite = %s  (%s ÷ %s)   pg2 ÷ pg1 = %s  (%s ÷ %s)\n' \
    "$c" "$r1" "${summary[pg1/$c]}" "${summary[sqlite/$c]}" "$r2" "${summary[pg2/$c]}" "${summary[pg1/$c]}"
done

echo
echo "CPU during the measured runs (summed over the runs), per verified pair; other = the machine's busy time minus nodes and postgres (wrk, the kernel's share not charged to them, anything else running):"
echo "| scenario | connections | pairs | nodes | postgres | machine | nodes/pair | postgres/pair | other/pair | machine/pair |"
printf '%s\n' "${cpu_lines[@]}"
echo
echo "pair-count check (harness = verifies answered 200 verified; server = delta of otpVerified, one read for both pg2 nodes):"
echo "| scenario | connections | run | pairs/s | harness pairs | server verified | match | sends 201 | verifies sent | errors | p99 per wrk (ms) |"
printf '%s\n' "${checks[@]}"
echo "load average before: $load_before; after: $load_after"
echo "Note: one $(nproc)-core machine: PostgreSQL, every node and wrk share the same cores, so two nodes cannot be faster than one here."
for n in "${!node_pid[@]}"; do
  if [ -s "$work/$n.log" ]; then
    echo "--- stderr of node $n ($(wc -l <"$work/$n.log") lines; last 15):"
    tail -15 "$work/$n.log"
  fi
done
[ "$mismatch" = 0 ] || { echo "PAIR COUNT MISMATCH (see the table above)" >&2; exit 3; }
