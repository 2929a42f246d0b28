#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, storage, API, end-to-end, and
# the console's journeys in headless Chromium).
#   scripts/test.sh              the suite on the release build (build/)
#   scripts/test.sh --sanitize   the same C++ suite under AddressSanitizer + UBSan (build-sanitize/), SQLite only;
#                                the browser journeys run once, on the release build
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh "$@"
# The webhook and receipt end-to-end tests verify with the standardwebhooks and jose npm packages.
[ -d tests/webhooks/node_modules/standardwebhooks ] && [ -d tests/webhooks/node_modules/jose ] || npm ci --prefix tests/webhooks --no-audit --no-fund >/dev/null

dir=build
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-sanitize
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
# The sanitizer run skips the PostgreSQL pass (the release run covers both engines; doubling
# it under ASan would cost CI ~5 minutes more).
exclude=()
[ "$dir" = build-sanitize ] && exclude=(-E '^postgres$')
ctest --test-dir "$dir" --output-on-failure --timeout 900 -j2 "${exclude[@]}"
# The web console in a real browser (installs Debian's chromium and the npm test packages),
# against COBINAR_TEST_BINARY when set (as the end-to-end suite: CI points both at the static
# release binary), else the build's own.
if [ "$dir" = build ]; then
  scripts/test-console.sh "${COBINAR_TEST_BINARY:-$dir/cobinar-phone}"
fi
