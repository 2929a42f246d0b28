#!/usr/bin/env bash
# Installs what is missing, builds, and serves on 127.0.0.1:8080 with ./data.sqlite.
# Extra arguments go to the server, e.g. scripts/run.sh --signup open
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
exec build/cobinar-phone --db data.sqlite "$@"
