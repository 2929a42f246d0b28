#!/usr/bin/env bash
# Every benchmark in one go, in the order the numbers in the README come from:
#   bench/run.sh full; bench/run.sh normal   ours vs the Node peer (ratio), console reads, probe
#   bench/webhooks.sh full                   webhook keep-up under the flow
#   bench/analytics.sh "10000 1000000"       console reads as history grows
# Each appends its section to bench/RESULTS.md. Takes about 20 minutes on 2 cores; run it on
# a quiet machine (load average well under 1). Same environment as the scripts (BENCH_BINARY…).
set -euo pipefail
cd "$(dirname "$0")"
./run.sh full
./run.sh normal
./webhooks.sh full
./analytics.sh "${ANALYTICS_SIZES:-10000 1000000}"
