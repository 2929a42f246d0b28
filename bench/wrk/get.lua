-- GET with the Authorization header from the environment (COBINAR_TOKEN) when set.
-- done() prints one machine-readable line:
--   WRK requests=N duration_us=N status_errors=N connect=N read=N write=N timeout=N p50_us=N p99_us=N
local token = os.getenv("COBINAR_TOKEN")
if token then wrk.headers["Authorization"] = "Bearer " .. token end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK requests=%d duration_us=%d status_errors=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
