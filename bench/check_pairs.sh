#!/usr/bin/env bash
# Checks bench/wrk/flow.lua's pair counting against the server's own view: runs the flow
# against a fresh cobinar-phone, then pages through GET /v1/otp?status=verified (and pending,
# failed) and reads the analytics summary's otpVerified, and prints them beside the harness's
# counts. Every verify the harness sent must be a verified request; harness pairs (answers
# received) may fall short of it only by the verifies still in flight when wrk stopped
# (at most one per connection).
#   bench/check_pairs.sh [SECONDS] [CONNECTIONS] [LUA_SCRIPT]     (defaults 5 16 bench/wrk/flow.lua)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
connections=${2:-16}
script=${3:-bench/wrk/flow.lua}
if [ -n "${BENCH_BINARY:-}" ]; then binary=$BENCH_BINARY; else scripts/build.sh >/dev/null; binary=build/cobinar-phone; fi
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
db=$work/check.sqlite
"$binary" developer create --email bench@example.com --plan unlimited --db "$db" >/dev/null
export COBINAR_TOKEN=$("$binary" token --email bench@example.com --db "$db")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
big=100000000
"$binary" --db "$db" --listen "127.0.0.1:$port" --send-rate-limit $big --verify-rate-limit $big \
  --phone-send-limit $big --phone-failure-limit $big 2>/dev/null &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 200); do curl -fs "$base/v1/health" >/dev/null && break; sleep 0.1; done
auth=(-H "Authorization: Bearer $COBINAR_TOKEN" -H 'content-type: application/json')
project=$(curl -fs "$base/v1/projects" "${auth[@]}" -d '{"name":"bench"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["data"]["id"])')
curl -fs "$base/v1/applications" "${auth[@]}" -d "{\"name\":\"bench\",\"projectId\":\"$project\",\"environment\":\"test\"}" > "$work/app.json"
read -r COBINAR_CLIENT_ID COBINAR_CLIENT_SECRET COBINAR_API_KEY < <(python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))["data"]; print(d["clientId"], d["clientSecret"], d["apiKey"])' "$work/app.json")
export COBINAR_CLIENT_ID COBINAR_CLIENT_SECRET COBINAR_API_KEY
out=$(wrk -t1 -c"$connections" -d"${seconds}s" -s "$script" "$base/v1/otp/send" 2>&1)
echo "$out" | grep -E 'requests in|Non-2xx|Socket errors|^FLOW|^ERRORS' || true
python3 - "$base" "$COBINAR_TOKEN" <<'EOF'
import json, sys, urllib.request
base, token = sys.argv[1], sys.argv[2]
def get(path):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req))
def count(status):
    n, cursor = 0, None
    while True:
        page = get(f"/v1/otp?status={status}&limit=200" + (f"&cursor={cursor}" if cursor else ""))
        n += len(page["data"])
        cursor = page.get("nextCursor")
        if not cursor: return n
counts = {s: count(s) for s in ("verified", "pending", "failed", "expired")}
summary = get("/v1/analytics/summary")["data"]
print("server: GET /v1/otp by status:", counts, "| summary otpRequests", summary["otpRequests"], "otpVerified", summary["otpVerified"])
EOF
