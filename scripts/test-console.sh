#!/usr/bin/env bash
# Runs the web console's real-browser journeys (tests/console/*.test.mjs): headless Debian
# chromium driven by playwright-core from npm, axe-core accessibility scans, each journey on a
# fresh server started from BINARY.
#   scripts/test-console.sh [BINARY]     BINARY defaults to build/cobinar-phone
# Installs Debian's chromium when /usr/bin/chromium is missing and the npm packages (npm ci)
# when tests/console/node_modules is. Screenshots go to $COBINAR_SCREENSHOTS_DIR (default
# ${TMPDIR:-/tmp}/cobinar-console-screenshots). Works without a display or stdin (CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."

binary="${1:-build/cobinar-phone}"
case "$binary" in /*) ;; *) binary="$PWD/$binary" ;; esac
if [ ! -x "$binary" ]; then
  echo "test-console: no executable server binary at $binary (build it first: scripts/build.sh)" >&2
  exit 2
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "test-console: installing Debian's chromium" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends chromium fonts-liberation fonts-dejavu-core >/dev/null
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  scripts/install-deps.sh
fi
# playwright-core needs Node 20+, and node --test's --test-concurrency/--test-timeout 20.11+.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 11) ? 0 : 1)'; then
  echo "test-console: Node.js 20.11 or newer is needed (found $(node --version))" >&2
  exit 2
fi

# The suite's npm packages (playwright-core, axe-core), pinned by package-lock.json.
if [ ! -d tests/console/node_modules/playwright-core ] || [ ! -d tests/console/node_modules/axe-core ]; then
  npm ci --prefix tests/console --no-audit --no-fund >/dev/null
fi

export COBINAR_BINARY="$binary"
export COBINAR_SCREENSHOTS_DIR="${COBINAR_SCREENSHOTS_DIR:-${TMPDIR:-/tmp}/cobinar-console-screenshots}"
mkdir -p "$COBINAR_SCREENSHOTS_DIR"
rm -f "$COBINAR_SCREENSHOTS_DIR"/failed-*.png  # the failures of an earlier run
echo "test-console: $("$binary" version 2>/dev/null || echo "$binary"), $(/usr/bin/chromium --version 2>/dev/null), screenshots in $COBINAR_SCREENSHOTS_DIR" >&2

# One journey file at a time: each starts its own server and chromium, and the machine has
# two cores.
cd tests/console
exec node --test --test-concurrency=1 --test-timeout=180000 --test-reporter=spec ./*.test.mjs
