-- The sign-in flow: POST /v1/otp/send, then POST /v1/otp/verify with the returned testCode
-- (a test application). A "pair" is counted only when its verify answered 200 with
-- "status":"verified".
--
-- Pairing: wrk gives request() and response() no connection identity, and all connections of
-- a wrk thread share one Lua state. wrk does not pipeline (one request in flight per
-- connection, the next request() only after that connection's response()), so the script
-- keeps one FIFO queue of codes per thread: every 201 from send appends its {requestId, code};
-- every request() takes the oldest code and verifies it, or sends when the queue is empty.
-- Each code is therefore verified exactly once (by whichever connection asks next), none is
-- overwritten, and at most one code per connection waits at any time. (The old script kept a
-- single pending code per thread, so concurrent sends overwrote each other and most codes were
-- never verified.) bench/run.sh compares this count with the server's own count of verified
-- requests after every run.
--
-- BENCH_IDEMPOTENCY_KEYS=1: every request carries its own Idempotency-Key (SPEC §16), so the
-- server stores each answer with its effects; the cost of keyed calls against unkeyed ones.
--
-- done() prints one machine-readable line:
--   FLOW pairs=N sends=N verifies=N failed_verifies=N other=N duration_us=N status_errors=N
--        connect=N read=N write=N timeout=N p50_us=N p99_us=N requests=N
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-client-id"] = os.getenv("COBINAR_CLIENT_ID")
wrk.headers["x-client-secret"] = os.getenv("COBINAR_CLIENT_SECRET")
wrk.headers["x-api-key"] = os.getenv("COBINAR_API_KEY")

local threads = {}
local thread_id = 0

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end

-- Per-thread globals (read by done() through thread:get).
pairs_verified = 0
sends_ok = 0
verifies_sent = 0
failed_verifies = 0
other = 0
local counter = 0
local queue = {}      -- FIFO of pending {id, code}
local head, tail = 1, 0
local keyed = os.getenv("BENCH_IDEMPOTENCY_KEYS") == "1"
local keys = 0

-- wrk.format uses the given headers instead of wrk.headers, so a keyed request copies them.
local function headers()
  if not keyed then return nil end
  keys = keys + 1
  local h = {}
  for name, value in pairs(wrk.headers) do h[name] = value end
  h["Idempotency-Key"] = string.format("bench-%d-%d", counter, keys)
  return h
end

function init(args)
  -- A phone range per thread and per run, so runs against one database do not supersede
  -- each other's pending codes.
  local run = tonumber(os.getenv("BENCH_RUN_ID") or "0")
  counter = (run % 400) * 2000000 + id * 1000000
end

request = function()
  if head <= tail then
    local p = queue[head]
    queue[head] = nil
    head = head + 1
    verifies_sent = verifies_sent + 1
    return wrk.format("POST", "/v1/otp/verify", headers(), '{"requestId":"' .. p.id .. '","code":"' .. p.code .. '"}')
  end
  counter = counter + 1
  local phone = string.format("+999%09d", counter % 1000000000)
  return wrk.format("POST", "/v1/otp/send", headers(), '{"phone":"' .. phone .. '"}')
end

response = function(status, headers, body)
  if status == 201 then
    local id = string.match(body, '"requestId":"([^"]+)"')
    local code = string.match(body, '"testCode":"([0-9]+)"')
    if id and code then
      sends_ok = sends_ok + 1
      tail = tail + 1
      queue[tail] = { id = id, code = code }
    else
      other = other + 1
    end
  elseif status == 200 and string.find(body, '"status":"verified"', 1, true) then
    pairs_verified = pairs_verified + 1
  elseif string.find(body, '"INVALID_CODE"', 1, true) or string.find(body, '"OTP_', 1, true) or status == 404 then
    failed_verifies = failed_verifies + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local t = { pairs = 0, sends = 0, verifies = 0, failed = 0, other = 0 }
  for _, thread in ipairs(threads) do
    t.pairs = t.pairs + thread:get("pairs_verified")
    t.sends = t.sends + thread:get("sends_ok")
    t.verifies = t.verifies + thread:get("verifies_sent")
    t.failed = t.failed + thread:get("failed_verifies")
    t.other = t.other + thread:get("other")
  end
  local e = summary.errors
  io.write(string.format("FLOW pairs=%d sends=%d verifies=%d failed_verifies=%d other=%d duration_us=%d status_errors=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d requests=%d\n",
    t.pairs, t.sends, t.verifies, t.failed, t.other, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), summary.requests))
end
