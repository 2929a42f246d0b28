#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]
#
# Runs COMMAND next to a throwaway PostgreSQL 15 server (Debian's postgresql-15, installed by
# scripts/install-deps.sh), with COBINAR_TEST_POSTGRES set to a libpq URL of its superuser:
#   postgresql://cobinar@127.0.0.1:PORT/postgres
# The server lives in a fresh temp directory (data, Unix socket, log), listens on 127.0.0.1 on
# a free port, trusts local connections (user cobinar, UTF8, locale C) and allows 300
# connections; fsync and synchronous_commit keep their defaults (on): the tests check
# durability. When COMMAND ends, or the script fails or is interrupted, the server is stopped
# and the directory removed. Exits with COMMAND's status.
#
# If COBINAR_TEST_POSTGRES is already set, COMMAND just runs against that server.
# initdb refuses to run as root: as root (CI) the server runs as Debian's "postgres" account
# (created by postgresql-common), or else a system user cobinar-pg created here; as anyone
# else, as the current user. Debian's own "main" cluster (port 5432) is never used.
# Environment: COBINAR_PG_BIN (default /usr/lib/postgresql/15/bin).
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
[ -n "${COBINAR_TEST_POSTGRES:-}" ] && exec "$@"

log() { echo "with-postgres: $*" >&2; }
die() { log "error: $*"; exit 1; }

bin=${COBINAR_PG_BIN:-/usr/lib/postgresql/15/bin}
for tool in initdb pg_ctl postgres pg_isready; do
  [ -x "$bin/$tool" ] || die "$bin/$tool is missing (run scripts/install-deps.sh: postgresql-15)"
done

# The account the server runs as, and how to run a command as it.
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  owner=postgres
  if ! id -u "$owner" >/dev/null 2>&1; then
    owner=cobinar-pg
    id -u "$owner" >/dev/null 2>&1 ||
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$owner" 2>/dev/null ||
      id -u "$owner" >/dev/null 2>&1 || die "cannot create the system user $owner"
  fi
  as_owner=(setpriv --reuid="$owner" --regid="$(id -g "$owner")" --init-groups --)
fi

# /tmp unless TMPDIR is short enough for the socket path (107 bytes on Linux).
tmp_base=${TMPDIR:-/tmp}
[ ${#tmp_base} -le 60 ] || tmp_base=/tmp
dir=$(mktemp -d "$tmp_base/cobinar-pg.XXXXXX")
data="$dir/data"
logfile="$dir/postgres.log"
started=""

cleanup() {
  local status=$?
  if [ -f "$data/postmaster.pid" ]; then
    "${as_owner[@]}" "$bin/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      "${as_owner[@]}" "$bin/pg_ctl" -D "$data" -m immediate -w -t 10 stop >/dev/null 2>&1 ||
      log "warning: could not stop the server in $dir"
  fi
  rm -rf "$dir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

[ ${#as_owner[@]} -eq 0 ] || chown "$owner:$(id -gn "$owner")" "$dir"
chmod 700 "$dir"

if ! "${as_owner[@]}" "$bin/initdb" -D "$data" --auth=trust -U cobinar --encoding=UTF8 --locale=C \
  --no-instructions >"$dir/initdb.log" 2>&1; then
  cat "$dir/initdb.log" >&2
  die "initdb failed"
fi
cat >>"$data/postgresql.conf" <<EOF

# scripts/with-postgres.sh: a throwaway server for tests
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 128MB
EOF

# A port that nothing answers on; if another process takes it first, try another one.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  port_in_use "$port" && continue
  [ ! -f "$logfile" ] || : >"$logfile"  # (pg_ctl creates it, owned by the server's account)
  if "${as_owner[@]}" "$bin/pg_ctl" -D "$data" -l "$logfile" -o "-p $port" -w -t 30 start >/dev/null 2>&1; then
    started=1
    break
  fi
  # A postmaster left behind (pg_ctl's wait timed out) is stopped by cleanup.
  [ ! -f "$data/postmaster.pid" ] && grep -q "could not bind" "$logfile" 2>/dev/null ||
    { cat "$logfile" >&2 2>/dev/null || true; die "the server did not start (log above)"; }
  log "port $port taken, trying another"
done
[ -n "$started" ] || { cat "$logfile" >&2 2>/dev/null || true; die "no free port found"; }

# pg_ctl -w has waited for it; check TCP too (bounded to ~30 s).
for _ in $(seq 1 60); do
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U cobinar -d postgres && break
  sleep 0.5
done
"$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U cobinar -d postgres ||
  { cat "$logfile" >&2; die "the server does not accept connections on 127.0.0.1:$port"; }

export COBINAR_TEST_POSTGRES="postgresql://cobinar@127.0.0.1:$port/postgres"
log "PostgreSQL $("$bin/postgres" -V | awk '{print $3}') on 127.0.0.1:$port (data in $dir)"
# COMMAND runs in the background so that a TERM/INT/HUP sent to this script reaches it (and
# the server is stopped when it ends); its standard input stays the script's.
"$@" <&0 &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' TERM INT HUP
while :; do
  status=0
  wait "$child" || status=$?
  kill -0 "$child" 2>/dev/null || break  # else a signal interrupted wait: wait again
done
exit "$status"
