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
# During the PostgreSQL runs one psql session samples pg_stat_activity every 0.25 s (the
# scenario's backends that are not idle: their wait event, or "CPU", and statement), so the
# reader sees what the backends wait for; and the latency of an 8 kB write + fdatasync in the
# temp directory (the disk of both engines) is measured before and after.
#
# One machine: PostgreSQL, the nodes and wrk share its cores. With 2 cores, two nodes cannot
# be faster than one here; pg2 shows what a second node costs, not what a second machine gains.
#
# Environment:
#   BENCH_BINARY=path     server binary (default build-edge/cobinar-phone; copied before the run)
#   SECONDS_PER_RUN=8     length of a measured run;  WARMUP_SECONDS=3;  RUNS=3
#   BENCH_CONNECTIONS="16 64"
#   BENCH_TIMEOUT=1800    the whole script is stopped after this many seconds
#   BENCH_SERVER_ARGS     extra arguments for every node;  BENCH_DB_POOL_SIZE=16
#   BENCH_PG_WAITS=0      no pg_stat_activity sampling
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
  set +e  # every step of the cleanup runs, whatever fails
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
(
  trap 'kill "$nap" 2>/dev/null; exit 0' TERM
  sleep "$limit" & nap=$!
  wait "$nap" && { echo "scaling.sh: stopped after BENCH_TIMEOUT=$limit s" >&2; kill -TERM $$ 2>/dev/null; }
) &
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
declare -A dbname  # scenario -> its PostgreSQL database
sample_waits=${BENCH_PG_WAITS:-1}

# PostgreSQL: a fresh database per scenario; its URL is the admin URL with the database swapped.
pg_url_for() {  # dbname
  local u=${admin_url%%\?*} q=""
  [[ $admin_url == *\?* ]] && q="?${admin_url#*\?}"
  echo "${u%/*}/$1$q"
}
suffix=$(date +%s)_$$
fsync_probe() {  # median and p90 of 200 × (8 kB pwrite + fdatasync) in the temp directory
  python3 - "$work/fsync.probe" <<'EOF2'
import os, statistics, sys, time
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY, 0o600)
block, times = b"x" * 8192, []
for i in range(200):
    t = time.perf_counter(); os.pwrite(fd, block, (i % 16) * 8192); os.fdatasync(fd); times.append(time.perf_counter() - t)
os.close(fd); os.unlink(sys.argv[1])
times.sort()
print(f"{statistics.median(times) * 1000:.2f} ms median, {times[179] * 1000:.2f} ms p90")
EOF2
}
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
  dbname[$scenario]=$db
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

# One snapshot in one process (forks per PostgreSQL child would cost seconds on a busy machine):
#   "node_ticks pg_ticks machine_ticks wall_ns" — the scenario's node processes (utime+stime);
#   the postmaster (with its reaped children's times) plus its live children, -1 when not
#   visible; every core's busy ticks (user nice system irq softirq steal, /proc/stat).
snapshot() {  # scenario
  local -a members_pids=()
  local n
  for n in ${nodes[$1]}; do members_pids+=("${node_pid[$n]}"); done
  python3 - "${postmaster:--1}" "${members_pids[@]}" <<'EOF2'
import os, sys, time
def stat(pid):
    try:
        f = open(f"/proc/{pid}/stat").read()
    except OSError:
        return None
    return f[f.rindex(")") + 2:].split()  # from field 3 (state) on
def ticks(f, children=False):
    return int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if children else 0)
pm = int(sys.argv[1])
nodes = sum(ticks(f) for f in map(stat, sys.argv[2:]) if f)
pg = -1
if pm > 0 and (f := stat(pm)):
    pg = ticks(f, children=True)
    for d in os.listdir("/proc"):
        if d.isdigit() and (c := stat(d)) and int(c[1]) == pm:
            pg += ticks(c)
with open("/proc/stat") as fh:
    cpu = [int(x) for x in fh.readline().split()[1:]]
print(nodes, pg, cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + cpu[7], time.monotonic_ns())
EOF2
}

# The scenario's database counters: "commits rollbacks deadlocks" (-1 -1 -1 for SQLite).
# (PostgreSQL's backends flush them about once a second: a run's delta is approximate, the sum
# over the runs close.)
pg_xacts() {  # scenario
  if [ -z "${dbname[$1]:-}" ]; then echo "-1 -1 -1"; return; fi
  psql_admin -F' ' -c "SELECT xact_commit, xact_rollback, deadlocks FROM pg_stat_database WHERE datname = '${dbname[$1]}'"
}

# The run counter lives in a file: wrk_once usually runs in a command substitution (a subshell).
echo 0 >"$work/run_id"
# One measured (or warm-up) run of a scenario; prints
#   rate p50_ms p99_ms errors server_delta harness_pairs sends verifies node_s pg_s machine_s wall_s
#   commits rollbacks deadlocks p99s   (commits… of the scenario's PostgreSQL database, -1 for SQLite)
wrk_once() {  # scenario connections seconds [wait-sample tag]
  local scenario=$1 c=$2 secs=$3 n run_id before after t0n t0p t0m t0w t1n t1p t1m t1w share i=0
  local -a members wrk_pids
  read -r -a members <<<"${nodes[$scenario]}"
  share=$((c / ${#members[@]}))
  local x0 x1
  x0=$(pg_xacts "$scenario")
  before=$(server_verified "$scenario")
  local sampler=""
  if [ "$sample_waits" = 1 ] && [ -n "${dbname[$scenario]:-}" ] && [ -n "${4:-}" ]; then
    # state and wait of each busy backend of this database; "CPU" = active and not waiting
    cat >"$work/watch.sql" <<EOF2
SELECT CASE WHEN state <> 'active' THEN state ELSE coalesce(wait_event_type || ':' || wait_event, 'CPU') END
       || ' in ' || left(regexp_replace(query, '\s+', ' ', 'g'), 60)
FROM pg_stat_activity WHERE datname = '${dbname[$scenario]}' AND state <> 'idle' AND pid <> pg_backend_pid()
\watch 0.25
EOF2
    timeout $((secs + 10)) psql "$admin_url" -qAt -f "$work/watch.sql" >>"$work/waits.$4" 2>/dev/null &
    sampler=$!
  fi
  read -r t0n t0p t0m t0w <<<"$(snapshot "$scenario")"
  for n in "${members[@]}"; do
    # a phone range per wrk process and run (flow.lua): the two of pg2 never share a phone
    run_id=$(( $(cat "$work/run_id") + 1 )); echo "$run_id" >"$work/run_id"
    BENCH_RUN_ID=$run_id COBINAR_CLIENT_ID=${client_id[$scenario]} COBINAR_CLIENT_SECRET=${client_secret[$scenario]} \
      COBINAR_API_KEY=${api_key[$scenario]} timeout $((secs + 30)) \
      wrk -t1 -c"$share" -d"${secs}s" --timeout 5s -s bench/wrk/flow.lua "${base[$n]}/v1/otp/send" >"$work/wrk.$i" 2>&1 &
    wrk_pids+=($!)
    i=$((i + 1))
  done
  for n in "${wrk_pids[@]}"; do wait "$n" || true; done
  read -r t1n t1p t1m t1w <<<"$(snapshot "$scenario")"
  if [ -n "$sampler" ]; then kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; fi
  after=$(server_verified "$scenario")
  sleep 1  # (the backends' statistics flush)
  x1=$(pg_xacts "$scenario")
  python3 - "$before" "$after" "$((t1n - t0n))" "$([ "$t0p" -ge 0 ] && echo $((t1p - t0p)) || echo -1)" \
    "$((t1m - t0m))" "$clk_tck" "$((t1w - t0w))" "$x0" "$x1" "$work"/wrk.* <<'EOF'
import re, sys
before, after, node_t, pg_t, machine_t, hz, wall_ns, x0, x1 = sys.argv[1:10]
hz = int(hz)
x0, x1 = [int(v) for v in x0.split()], [int(v) for v in x1.split()]
xacts = " ".join(str(b - a) if a >= 0 else "-1" for a, b in zip(x0, x1))
tot = dict(pairs=0, sends=0, verifies=0, errors=0, rate=0.0)
p50s, p99s = [], []
for path in sys.argv[10:]:
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
      f'{tot["pairs"]} {tot["sends"]} {tot["verifies"]} {int(node_t) / hz:.2f} {pg} {int(machine_t) / hz:.2f} {int(wall_ns) / 1e9:.2f} {xacts} '
      + "/".join(f"{p:.2f}" for p in p99s))
EOF
  rm -f "$work"/wrk.*
}

summarize() {  # "runs separated by ;" -> "median min max p50med p99med errors pairs node_s pg_s machine_s wall_s commits rollbacks deadlocks"
  python3 - "$1" <<'EOF'
import statistics, sys
rows = [r.split() for r in sys.argv[1].split(";") if r.strip()]
f = lambda i: [float(r[i]) for r in rows]
rates = f(0)
pairs = sum(f(5))
pg = sum(f(9)) if min(f(9)) >= 0 else -1
print(f"{statistics.median(rates):.0f} {min(rates):.0f} {max(rates):.0f} {statistics.median(f(1)):.2f} "
      f"{statistics.median(f(2)):.2f} {int(sum(f(3)))} {int(pairs)} {sum(f(8)):.2f} {pg:.2f} {sum(f(10)):.2f} {sum(f(11)):.2f} "
      + " ".join(str(int(sum(f(i)))) if min(f(i)) >= 0 else "-1" for i in (12, 13, 14)))
EOF
}
per_pair_us() { python3 -c "import sys; s, p = float(sys.argv[1]), float(sys.argv[2]); print('n/a' if s < 0 or p <= 0 else f'{s / p * 1e6:.0f}')" "$1" "$2"; }

scenarios=(sqlite pg1 pg2)
declare -A summary
lines=()
cpu_lines=()
xact_lines=()
checks=()
mismatch=0
started=$(date -u +%Y-%m-%dT%H:%MZ)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench/scaling.sh, started $started, $(uname -srm)"
echo "cobinar-phone $version; PostgreSQL $pg_version (synchronous_commit/fsync $pg_sync) on this machine; $(nproc) cores"
echo "flow (bench/wrk/flow.lua), wrk -t1 per node, warm-up ${warmup} s per scenario, then $runs runs of ${seconds} s, sqlite/pg1/pg2 alternating"
echo "pg2: two nodes on one database, two wrk processes at once with half the connections each; pairs summed, latency = the max of the two"
fsync_before=$(fsync_probe)
echo "8 kB write + fdatasync in $work: $fsync_before"
echo "load average before: $load_before"
for c in $connections; do
  declare -A rows=()
  for s in "${scenarios[@]}"; do wrk_once "$s" "$c" "$warmup" >/dev/null; done
  for run in $(seq "$runs"); do
    for s in "${scenarios[@]}"; do
      result=$(wrk_once "$s" "$c" "$seconds" "$s.$c")
      rows[$s]+="$result;"
      read -r rate p50 p99 errors server harness sends verifies node_s pg_s machine_s wall_s commits rollbacks deadlocks p99s <<<"$result"
      ok=yes
      # Harness pairs are answers received; the server may have verified up to one more per
      # connection (verifies in flight when wrk stopped), never fewer.
      if [ "$server" -lt "$harness" ] || [ "$server" -gt $((harness + c)) ]; then ok=NO; mismatch=1; fi
      checks+=("| $s | $c | $run | $rate | $harness | $server | $ok | $sends | $verifies | $errors | $p99s |")
      printf '  run %s c=%-3s %-6s %8s pairs/s  harness %6s  server %6s  %-3s  p99 %s ms  errors %s  cpu: nodes %s s, postgres %s s, machine %s s in %s s\n' \
        "$run" "$c" "$s" "$rate" "$harness" "$server" "$ok" "$p99s" "$errors" "$node_s" "$pg_s" "$machine_s" "$wall_s"
    done
  done
  for s in "${scenarios[@]}"; do
    read -r med min max p50 p99 errors pairs node_s pg_s machine_s wall_s commits rollbacks deadlocks <<<"$(summarize "${rows[$s]}")"
    summary[$s/$c]=$med
    printf '%-6s c=%-3s %7s pairs/s (min %s, max %s)  p50 %6s ms  p99 %6s ms  errors %s\n' \
      "$s" "$c" "$med" "$min" "$max" "$p50" "$p99" "$errors"
    lines+=("| $s | $c | $med | $min – $max | $p50 ms | $p99 ms | $errors |")
    nodes_us=$(per_pair_us "$node_s" "$pairs"); pg_us=$(per_pair_us "$pg_s" "$pairs"); machine_us=$(per_pair_us "$machine_s" "$pairs")
    other_us=n/a
    [ "$pg_us" != n/a ] && [ "$machine_us" != n/a ] && other_us=$((machine_us - nodes_us - pg_us))
    busy=$(python3 -c "import sys; print(f'{float(sys.argv[1]) / (float(sys.argv[2]) * int(sys.argv[3])) * 100:.0f}')" "$machine_s" "$wall_s" "$(nproc)")
    cpu_lines+=("| $s | $c | $pairs | $wall_s s | $node_s s | $pg_s s | $machine_s s ($busy %) | $nodes_us µs | $pg_us µs | $other_us µs | $machine_us µs |")
    if [ "$commits" -ge 0 ]; then
      per=$(python3 -c "import sys; print(f'{int(sys.argv[1]) / max(1, int(sys.argv[2])):.1f}')" "$commits" "$pairs")
      xact_lines+=("| $s | $c | $pairs | $commits | $per | $rollbacks | $deadlocks |")
    fi
  done
  unset rows
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
fsync_after=$(fsync_probe)

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
echo "| scenario | connections | median pairs/s | min – max | p50 | p99 | errors |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${lines[@]}"
echo
echo "| connections | sqlite | pg1 | pg2 | pg1 ÷ sqlite | pg2 ÷ pg1 |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ratio_lines[@]}"
echo
echo "CPU during the measured runs (summed over the runs), per verified pair; other = the machine's busy time minus nodes and postgres (wrk, the kernel's share not charged to them, anything else running):"
echo "| scenario | connections | pairs | wall | nodes | postgres | machine busy (% of $(nproc) cores) | nodes/pair | postgres/pair | other/pair | machine/pair |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${cpu_lines[@]}"
echo
echo "PostgreSQL transactions during the measured runs (pg_stat_database of the scenario's database; every commit waits for its WAL flush):"
echo "| scenario | connections | pairs | commits | commits per pair | rollbacks | deadlocks |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${xact_lines[@]}"
echo
echo "pair-count check (harness = verifies answered 200 verified; server = delta of otpVerified, one read for both pg2 nodes):"
echo "| scenario | connections | run | pairs/s | harness pairs | server verified | match | sends 201 | verifies sent | errors | p99 per wrk (ms) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${checks[@]}"
if [ "$sample_waits" = 1 ]; then
  echo
  echo "PostgreSQL backends during the measured runs (pg_stat_activity every 0.25 s; share of the busy-backend samples; CPU = active, no wait event):"
  echo "| scenario | connections | busy backends per sample | top states/waits: share, statement |"
  echo "|---|---|---|---|"
  for c in $connections; do
    for s in pg1 pg2; do
      [ -s "$work/waits.$s.$c" ] || continue
      python3 - "$work/waits.$s.$c" "$s" "$c" "$runs" "$seconds" <<'EOF2'
import collections, sys
path, s, c, runs, secs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
lines = [l.rstrip("\n") for l in open(path) if " in " in l]
samples = max(1, int(runs * secs / 0.25))
by = collections.Counter(lines)
top = "; ".join(f"{n * 100 / len(lines):.0f}% {k}" for k, n in by.most_common(6))
print(f"| {s} | {c} | {len(lines) / samples:.1f} | {top} |")
EOF2
    done
  done
fi
echo "8 kB write + fdatasync: before $fsync_before; after $fsync_after"
echo "load average before: $load_before; after: $load_after"
echo "Note: one $(nproc)-core machine: PostgreSQL, every node and wrk share the same cores, so two nodes cannot be faster than one here."
# The nodes' stderr, without the per-request access lines: warnings, errors, retries.
for n in $(printf '%s\n' "${!node_pid[@]}" | sort); do
  [ -f "$work/$n.log" ] || continue
  grep -v ' info request method=' "$work/$n.log" >"$work/$n.rest" || true
  echo "stderr of node $n: $(wc -l <"$work/$n.log") lines, $(grep -c ' info request method=' "$work/$n.log" || true) access lines, $(grep -c ' status=5' "$work/$n.log" || true) answers 5xx, $(wc -l <"$work/$n.rest") other lines$([ -s "$work/$n.rest" ] && echo ' (first 10, last 10):')"
  if [ -s "$work/$n.rest" ]; then head -10 "$work/$n.rest"; [ "$(wc -l <"$work/$n.rest")" -le 10 ] || tail -10 "$work/$n.rest"; fi
done
[ "$mismatch" = 0 ] || { echo "PAIR COUNT MISMATCH (see the table above)" >&2; exit 3; }
