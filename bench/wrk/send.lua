-- POST /v1/otp/send for a rotating set of virtual numbers, with app credentials from the env.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-client-id"] = os.getenv("COBINAR_CLIENT_ID")
wrk.headers["x-client-secret"] = os.getenv("COBINAR_CLIENT_SECRET")
wrk.headers["x-api-key"] = os.getenv("COBINAR_API_KEY")
local counter = 0
local thread_id = 0

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  local run = tonumber(os.getenv("BENCH_RUN_ID") or "0")
  counter = 800000000 + (run % 50) * 2000000 + id * 1000000
end

request = function()
  counter = counter + 1
  local phone = string.format("+999%09d", counter % 1000000000)
  return wrk.format(nil, "/v1/otp/send", nil, '{"phone":"' .. phone .. '"}')
end

-- done() prints one machine-readable line (as get.lua):
--   WRK requests=N duration_us=N status_errors=N connect=N read=N write=N timeout=N p50_us=N p99_us=N
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK requests=%d duration_us=%d status_errors=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
