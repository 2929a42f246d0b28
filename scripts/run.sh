#!/usr/bin/env bash
# The quickest way to a running server: installs what is missing, builds only the server
# (not the tests or the bench tools; scripts/test.sh builds those), and serves on
# 127.0.0.1:8080 with ./data.sqlite. Extra arguments go to the server, e.g.
#   scripts/run.sh --signup open --sms-driver inbox
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
say "serving on http://127.0.0.1:8080 with ./data.sqlite (Ctrl-C stops it)"
exec build/cobinar-phone --db data.sqlite "$@"
