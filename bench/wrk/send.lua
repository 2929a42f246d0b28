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
  counter = id * 1000000
end

request = function()
  counter = counter + 1
  local phone = string.format("+999%09d", counter % 1000000000)
  return wrk.format(nil, "/v1/otp/send", nil, '{"phone":"' .. phone .. '"}')
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("ERRORS %d\n", errors))
end
