#!/usr/bin/env bash
# Checks packaging/Containerfile without a container engine (none is needed, none is used):
#   1. reads the Containerfile (FROM scratch, COPY [--chown], ENV, USER, WORKDIR, VOLUME, EXPOSE,
#      ENTRYPOINT, CMD; any other instruction fails, so this simulation cannot silently drift);
#   2. assembles the image's file system from its COPY lines, as an engine would, into a temp dir
#      (run packaging/stage-container.sh first);
#   3. checks the image holds the binary's loader and every library ldd lists, the CA bundle, a
#      passwd line for the USER, and that EXPOSE matches the port in CMD;
#   4. as root, where unshare and nsenter work: runs ENTRYPOINT + CMD as an engine would — chrooted
#      into that tree, in WORKDIR, as the USER, as PID 1 of its own PID namespace, in a private network
#      namespace, with only ENV (env -i), proc and a minimal /dev — then GET /v1/health on the
#      EXPOSEd port, checks /data is the USER's and 0700, that the database and the key file (0600)
#      appear in it owned by the USER, and that SIGTERM ends it with 0. Otherwise runs the binary with an empty environment
#      from an empty directory and says what it skipped.
# Takes a few seconds; needs curl.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec </dev/null

containerfile=packaging/Containerfile
fail() { echo "check-container: FAIL: $*" >&2; exit 1; }
say() { echo "check-container: $*"; }
command -v curl >/dev/null || fail "curl is not installed"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cobinar-container-check.XXXXXX")
chmod 0755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
rootfs=$tmp/rootfs
mkdir -m 0755 "$rootfs"

# --- 1. + 2. parse the Containerfile and assemble its file system ----------------------------
json_array() { # ["a", "b"] → one element per line (plain strings only)
  local s=$1
  [[ $s =~ ^\[(.*)\]$ ]] || fail "expected a JSON array: $s"
  s=${BASH_REMATCH[1]}
  grep -oE '"[^"]*"' <<<"$s" | sed 's/^"//; s/"$//'
}
from="" user="" workdir=/ volume="" expose=""
envs=() entrypoint=() cmd=() copies=0
while IFS= read -r line || [ -n "$line" ]; do
  [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
  [[ $line =~ \\$ ]] && fail "line continuations are not supported by this check: $line"
  read -r instr rest <<<"$line"
  case "${instr^^}" in
    FROM) from=$rest ;;
    COPY)
      chown=""
      read -ra args <<<"$rest"
      if [[ ${args[0]} == --chown=* ]]; then chown=${args[0]#--chown=}; args=("${args[@]:1}"); fi
      [[ ${args[0]} == --* ]] && fail "unsupported COPY flag: ${args[0]}"
      [ ${#args[@]} -eq 2 ] || fail "COPY with other than one source: $line"
      src=${args[0]} dest=${args[1]}
      [ -e "$src" ] || fail "COPY source $src does not exist (packaging/build-static.sh, packaging/stage-container.sh)"
      if [ -d "$src" ]; then
        # A directory's contents go into dest, which is created if missing.
        mkdir -p "$rootfs$dest"
        cp -a "$src/." "$rootfs$dest/"
        target=$rootfs$dest
      else
        mkdir -p "$(dirname "$rootfs$dest")"
        cp -a "$src" "$rootfs$dest"
        target=$rootfs$dest
      fi
      # Engines make copies root-owned unless --chown says otherwise.
      chown -hR "${chown:-0:0}" "$target" 2>/dev/null || [ "$(id -u)" -ne 0 ] || fail "chown ${chown:-0:0} $target"
      copies=$((copies + 1))
      ;;
    ENV) [[ $rest == *=* ]] || fail "ENV without '=': $line"; envs+=("$rest") ;;
    USER) user=$rest ;;
    WORKDIR) workdir=$rest ;;
    VOLUME) volume=$rest ;;
    EXPOSE) expose=$rest ;;
    ENTRYPOINT) mapfile -t entrypoint < <(json_array "$rest") ;;
    CMD) mapfile -t cmd < <(json_array "$rest") ;;
    *) fail "instruction $instr is not simulated by this check: $line" ;;
  esac
done <"$containerfile"
[ "$from" = scratch ] || fail "FROM is '$from', expected scratch"
[ ${#entrypoint[@]} -ge 1 ] || fail "no ENTRYPOINT"
[[ $user =~ ^([0-9]+):([0-9]+)$ ]] || fail "USER must be numeric uid:gid, is '$user'"
uid=${BASH_REMATCH[1]} gid=${BASH_REMATCH[2]}
[ -n "$volume" ] && mkdir -p "$rootfs$volume"
mkdir -p "$rootfs$workdir"
say "OK: FROM scratch, $copies COPY lines assembled; USER $user, VOLUME $volume, ENTRYPOINT ${entrypoint[*]}, CMD ${cmd[*]}"

# --- 3. what the image must hold --------------------------------------------------------------
bin=$rootfs${entrypoint[0]}
[ -f "$bin" ] && [ -x "$bin" ] || fail "ENTRYPOINT ${entrypoint[0]} is not an executable file in the image"
interp=$(readelf -l "$bin" | sed -nE 's/.*Requesting program interpreter: ([^]]+)\]/\1/p')
needed=()
[ -z "$interp" ] || needed+=("$interp")
while read -r lib; do needed+=("$lib"); done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
for lib in "${needed[@]}"; do
  [ -f "$rootfs$lib" ] || fail "the image lacks $lib, which the binary loads"
  cmp -s "$rootfs$lib" "$(readlink -f "$lib")" || fail "the image's $lib differs from this host's (restage)"
done
[ -s "$rootfs/etc/ssl/certs/ca-certificates.crt" ] || fail "no /etc/ssl/certs/ca-certificates.crt in the image"
grep -q "^[^:]*:x:$uid:$gid:" "$rootfs/etc/passwd" || fail "/etc/passwd has no line for $uid:$gid"
[ "$(stat -c %a "$rootfs/tmp")" = 1777 ] || fail "/tmp is not 1777"
listen=""
for ((i = 0; i < ${#cmd[@]}; i++)); do [ "${cmd[$i]}" = --listen ] && listen=${cmd[$((i + 1))]}; done
port=${listen##*:}
[ -n "$port" ] && [ "$expose" = "$port" ] || fail "EXPOSE '$expose' does not match CMD --listen '$listen'"
say "OK: the image holds ${needed[*]}, the CA bundle, a passwd line for $uid:$gid, /tmp; EXPOSE $expose = --listen port"

# --- 4. run it --------------------------------------------------------------------------------
env_args=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/ "${envs[@]}")
simulate() {
  # Outer namespaces: mounts (proc, /dev), network (loopback only: port 8080 cannot collide).
  cat >"$tmp/run.sh" <<'EOF'
set -eu
rootfs=$1 log=$2; shift 2
mount --make-rprivate /
ip link set lo up
mkdir -p "$rootfs/proc" "$rootfs/dev"
mount -t tmpfs -o mode=0755,nosuid tmpfs "$rootfs/dev"
for d in null zero random urandom; do touch "$rootfs/dev/$d"; mount --bind "/dev/$d" "$rootfs/dev/$d"; done
# Inner PID namespace: the ENTRYPOINT is PID 1, as in a container.
unshare --pid --fork --mount-proc="$rootfs/proc" \
  env -i "$@" >"$log" 2>&1 &
upid=$!
echo "$upid" >"$log.unshare-pid"
wait $upid
EOF
  # In the inner PID namespace: env -i ENV... nsenter --root ROOTFS --wd WORKDIR -S uid -G gid
  # (chroot, cd, drop to the USER with no supplementary groups), then exec the ENTRYPOINT.
  unshare --mount --net --fork sh "$tmp/run.sh" "$rootfs" "$tmp/server.log" \
    "${env_args[@]}" nsenter --root="$rootfs" --wd="$rootfs$workdir" -S "$uid" -G "$gid" \
    "${entrypoint[@]}" "${cmd[@]}" &
  outer=$!
}

if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && command -v nsenter >/dev/null && command -v ip >/dev/null &&
   unshare --mount --net --pid --fork true 2>/dev/null; then
  simulate
  # curl must run in the server's network namespace: enter it through the server's pid.
  server=""
  for _ in $(seq 1 50); do
    if [ -f "$tmp/server.log.unshare-pid" ]; then
      server=$(pgrep -P "$(cat "$tmp/server.log.unshare-pid")" | head -n1 || true)
      [ -n "$server" ] && break
    fi
    kill -0 "$outer" 2>/dev/null || { cat "$tmp/server.log" >&2 || true; fail "the container exited at once"; }
    sleep 0.1
  done
  [ -n "$server" ] || fail "the entrypoint did not start"
  code=""
  for _ in $(seq 1 50); do
    code=$(nsenter --net --target "$server" curl -s -o "$tmp/health.json" -w '%{http_code}' --max-time 2 \
      "http://127.0.0.1:$port/v1/health" 2>/dev/null || true)
    [ "$code" = 200 ] && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  dir=$(stat -c '%u:%g %a' "$rootfs$volume" 2>/dev/null || echo missing)
  owner=$(stat -c '%u:%g' "$rootfs$volume/data.sqlite" 2>/dev/null || echo missing)
  key=$(stat -c '%u:%g %a' "$rootfs$volume/data.sqlite.key" 2>/dev/null || echo missing)
  comm=$(cat "/proc/$server/comm" 2>/dev/null || true)
  status=0
  kill -TERM "$server" 2>/dev/null || true
  wait "$outer" || status=$?
  [ "$code" = 200 ] && grep -q '"status":"operational"' "$tmp/health.json" ||
    { cat "$tmp/server.log" >&2; fail "GET /v1/health inside the simulated container: ${code:-no answer}"; }
  [ "$comm" = cobinar-phone ] || fail "PID 1 of the container is '$comm', not the binary"
  [ "$dir" = "$uid:$gid 700" ] || fail "$volume: $dir (expected $uid:$gid 700)"
  [ "$owner" = "$uid:$gid" ] || fail "$volume/data.sqlite: owned by $owner (expected $uid:$gid)"
  [ "$key" = "$uid:$gid 600" ] || fail "$volume/data.sqlite.key: $key (expected $uid:$gid 600)"
  [ $status -eq 0 ] || { cat "$tmp/server.log" >&2; fail "the container exited $status after SIGTERM (expected 0)"; }
  say "OK: chrooted into the image, in $workdir, as $user, PID 1, env -i + ENV, own network: GET :$port/v1/health -> 200;"
  say "    $volume ($uid:$gid 0700) got data.sqlite and its key ($uid:$gid, key 0600); SIGTERM -> exit 0"
else
  say "SKIP: running inside the image's file system (needs root, unshare, nsenter and ip); running the binary with env -i instead"
  mkdir "$tmp/empty"
  (cd "$tmp/empty" && env -i "${env_args[@]}" "$bin" version) || fail "env -i ${entrypoint[0]} version failed"
  say "OK: env -i ${entrypoint[0]} version"
fi
say "PASS: $containerfile"
