#!/usr/bin/env bash
# Checks that a release binary (default dist/cobinar-phone) is self-contained:
#   1. ldd lists nothing but glibc's own libraries;
#   2. copied ALONE into an empty directory it starts, answers GET /v1/health with 200 and
#      "status":"operational", and exits 0 on SIGTERM.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec </dev/null

binary=${1:-dist/cobinar-phone}
fail() { echo "check-static: FAIL: $*" >&2; exit 1; }
say() { echo "check-static: $*"; }

[ -f "$binary" ] || fail "$binary does not exist (run packaging/build-static.sh)"
[ -x "$binary" ] || fail "$binary is not executable"
command -v curl >/dev/null || fail "curl is not installed"

# --- 1. dynamic dependencies ------------------------------------------------------------------
ldd_status=0
ldd_out=$(ldd "$binary" 2>&1) || ldd_status=$?
if [ $ldd_status -ne 0 ]; then
  grep -qE 'not a dynamic executable|statically linked' <<<"$ldd_out" ||
    fail "ldd failed on $binary: $ldd_out"
  say "ldd $binary: fully static (no dynamic dependencies)"
  ldd_out=""
else
  say "ldd $binary:"
  sed 's/^/    /' <<<"$ldd_out"
fi
bad=()
while read -r lib _; do
  [ -n "$lib" ] || continue
  name=$(basename "$lib")
  case "$name" in
    linux-vdso.so.* | linux-gate.so.* | ld-linux-x86-64.so.* | ld-linux.so.* | \
      libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.* | libresolv.so.*) ;;
    *) bad+=("$name") ;;
  esac
done <<<"$ldd_out"
[ ${#bad[@]} -eq 0 ] || fail "$binary links non-glibc shared libraries: ${bad[*]}"
say "OK: only glibc libraries are dynamic"

# --- 2. run it alone in an empty directory ------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cobinar-static-check.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
cp "$binary" "$tmp/cobinar-phone"
say "running $tmp/cobinar-phone (copied alone) with --db $tmp/data.sqlite --listen 127.0.0.1:0"
(cd "$tmp" && exec ./cobinar-phone --db "$tmp/data.sqlite" --listen 127.0.0.1:0 >"$tmp/stdout.log" 2>"$tmp/stderr.log") &
pid=$!

show_logs() {
  echo "--- stderr ---" >&2; cat "$tmp/stderr.log" >&2 || true
  echo "--- stdout ---" >&2; cat "$tmp/stdout.log" >&2 || true
}

port=""
body=""
deadline=$((SECONDS + 10))
while [ $SECONDS -lt $deadline ]; do
  if ! kill -0 "$pid" 2>/dev/null; then
    status=0; wait "$pid" || status=$?; pid=""
    show_logs
    fail "server exited early with status $status"
  fi
  if [ -z "$port" ]; then
    port=$(grep -ohE 'listening address=127\.0\.0\.1:[0-9]+' "$tmp/stderr.log" "$tmp/stdout.log" 2>/dev/null |
      head -n1 | sed 's/.*://' || true)
  fi
  if [ -n "$port" ] && [ "$port" != 0 ]; then
    code=$(curl -sS -o "$tmp/health.json" -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/v1/health" 2>/dev/null || true)
    if [ "$code" = 200 ]; then
      body=$(cat "$tmp/health.json")
      if grep -q '"status":"operational"' <<<"$body"; then
        break
      fi
    fi
  fi
  body=""
  sleep 0.2
done
if [ -z "$body" ]; then
  show_logs
  [ -n "$port" ] || fail "no 'listening address=127.0.0.1:PORT' line within 10 s"
  fail "GET http://127.0.0.1:$port/v1/health did not answer 200 with \"status\":\"operational\" within 10 s (last: ${code:-none})"
fi
say "OK: GET http://127.0.0.1:$port/v1/health -> 200 $body"

kill -TERM "$pid"
status=""
for _ in $(seq 1 50); do
  if ! kill -0 "$pid" 2>/dev/null; then
    status=0; wait "$pid" || status=$?
    break
  fi
  sleep 0.1
done
if [ -z "$status" ]; then
  show_logs
  fail "server did not exit within 5 s of SIGTERM"
fi
pid=""
if [ "$status" -ne 0 ]; then
  show_logs
  fail "server exited with status $status after SIGTERM (expected 0)"
fi
say "OK: exited 0 after SIGTERM"
say "PASS: $binary is self-contained"
