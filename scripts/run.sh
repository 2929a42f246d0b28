#!/usr/bin/env bash
# The quickest way to a running server: installs what is missing, builds only the server
# (not the tests or the bench tools; scripts/test.sh builds those), and serves a local sandbox on
# 127.0.0.1:8080 with ./data.sqlite: the console at http://127.0.0.1:8080/, sign-up open and
# codes kept in the inbox (COBINAR_SIGNUP / COBINAR_SMS_DRIVER in the environment, or flags,
# override both). Extra arguments go to the server, e.g.
#   scripts/run.sh --listen 127.0.0.1:9090
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "run.sh: $*" >&2; }

say "checking build dependencies (installs missing Debian packages with apt)"
scripts/install-deps.sh
if [ ! -x build/cobinar-phone ]; then
  say "first build of the server into build/ (a few minutes on a small machine; later runs rebuild only what changed)"
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target cobinar-phone
# Sandbox defaults, weaker than any flag (flags > environment > config file > defaults).
export COBINAR_SIGNUP="${COBINAR_SIGNUP:-open}"
export COBINAR_SMS_DRIVER="${COBINAR_SMS_DRIVER:-inbox}"
say "sandbox: sign-up ${COBINAR_SIGNUP}, SMS driver ${COBINAR_SMS_DRIVER} (set COBINAR_SIGNUP=closed for a server others can reach)"
say "serving with ./data.sqlite; open http://127.0.0.1:8080/ for the console (Ctrl-C stops it)"
exec build/cobinar-phone --db data.sqlite "$@"
