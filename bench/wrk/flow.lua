-- The sign-in flow: POST /v1/otp/send, then POST /v1/otp/verify with the returned testCode
-- (a test application). One "pair" = two requests; non-2xx answers count as errors.
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-client-id"] = os.getenv("COBINAR_CLIENT_ID")
wrk.headers["x-client-secret"] = os.getenv("COBINAR_CLIENT_SECRET")
wrk.headers["x-api-key"] = os.getenv("COBINAR_API_KEY")
local counter = 0
local pending = nil
local thread_id = 0

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  counter = id * 1000000 + 500000000
end

request = function()
  if pending then
    local body = '{"requestId":"' .. pending.id .. '","code":"' .. pending.code .. '"}'
    pending = nil
    return wrk.format("POST", "/v1/otp/verify", nil, body)
  end
  counter = counter + 1
  local phone = string.format("+999%09d", counter % 1000000000)
  return wrk.format("POST", "/v1/otp/send", nil, '{"phone":"' .. phone .. '"}')
end

response = function(status, headers, body)
  if status == 201 then
    local id = string.match(body, '"requestId":"([^"]+)"')
    local code = string.match(body, '"testCode":"([0-9]+)"')
    if id and code then pending = { id = id, code = code } end
  end
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("ERRORS %d\n", errors))
end
