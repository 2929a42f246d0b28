-- GET with the Authorization header from the environment (COBINAR_TOKEN) when set.
local token = os.getenv("COBINAR_TOKEN")
if token then wrk.headers["Authorization"] = "Bearer " .. token end
