#!/usr/bin/env bash
# Lints a real scrape with `promtool check metrics`: starts the binary (default
# build/cobinar-phone) on a fresh database with --metrics-listen, sends a little traffic to the
# API, scrapes GET /metrics and pipes it into promtool. Exits non-zero on any lint problem.
# Installs Debian's `prometheus` package (which carries promtool) when promtool is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec </dev/null

binary=${1:-build/cobinar-phone}
fail() { echo "check-metrics: FAIL: $*" >&2; exit 1; }
say() { echo "check-metrics: $*"; }

[ -x "$binary" ] || fail "$binary is not an executable (run scripts/build.sh)"
if ! command -v promtool >/dev/null; then
  say "installing promtool (Debian package prometheus)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
command -v promtool >/dev/null || fail "promtool is still missing"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cobinar-metrics-check.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
"$binary" --db "$tmp/data.sqlite" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 2>"$tmp/stderr.log" &
pid=$!

port=""
metrics_port=""
for _ in $(seq 1 50); do
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/stderr.log" >&2; fail "the server exited early"; }
  port=$(grep -ohE ' listening address=127\.0\.0\.1:[0-9]+' "$tmp/stderr.log" | grep -v metrics | head -n1 | sed 's/.*://' || true)
  metrics_port=$(grep -ohE 'metrics listening address=127\.0\.0\.1:[0-9]+' "$tmp/stderr.log" | head -n1 | sed 's/.*://' || true)
  [ -n "$port" ] && [ -n "$metrics_port" ] && break
  sleep 0.2
done
[ -n "$metrics_port" ] || { cat "$tmp/stderr.log" >&2; fail "no 'metrics listening address=...' line within 10 s"; }

# A little traffic, so route-labelled series and histograms are in the scrape.
curl -sS -o /dev/null "http://127.0.0.1:$port/v1/health"
curl -sS -o /dev/null "http://127.0.0.1:$port/no/such/route"
curl -sS -o /dev/null -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:$port/v1/otp/send"

curl -sS -D "$tmp/headers" -o "$tmp/scrape.txt" "http://127.0.0.1:$metrics_port/metrics" || fail "the scrape failed"
grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$tmp/headers" ||
  fail "wrong Content-Type: $(grep -i '^content-type' "$tmp/headers")"
say "scraped $(grep -vc '^#' "$tmp/scrape.txt") samples from http://127.0.0.1:$metrics_port/metrics"
# promtool prints lint findings and exits 1 on any problem.
if ! promtool check metrics <"$tmp/scrape.txt"; then
  fail "promtool check metrics found problems in the exposition"
fi
say "OK: promtool check metrics passed"
kill -TERM "$pid"
wait "$pid" || fail "the server did not exit 0 on SIGTERM"
pid=""
