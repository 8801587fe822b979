-- CloudSearch Domain: the endpoint is per search domain, so a client needs an explicit one. A
-- domain may allow anonymous access: `credentials = false` sends unsigned requests, and so does
-- a client whose credentials cannot be found (as JS v2). Searches are posted as forms (no URL
-- length limit).
local support = require "awspromise.customizations.support"

local function request_hook(service, request)
  support.require_endpoint(service, "CloudSearchDomain", request)
  request.unsignedWithoutCredentials = true
  support.after_build(request, function(http)
    if service.config.credentials == false then http.authtype = "none" end
    if request.operation == "Search" and http.method == "GET" then
      local base, query = http.url:match("^([^?]*)%??(.*)$")
      http.method, http.url, http.body = "POST", base, query
      http.headers["Content-Type"] = "application/x-www-form-urlencoded"
    end
  end)
end

return {request = request_hook}
