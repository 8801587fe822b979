-- Helpers the customization files share: rewriting a request's params before it is built and
-- touching the built HTTP request, without changing the caller's tables.
local Promise = require "awspromise.promise"

local support = {}

support.make_error = Promise.make_error

-- rewrite(copy_of_params, request) runs before the request is built; request.params becomes
-- the rewritten copy (the caller's table stays as it was).
function support.rewrite_params(request, rewrite)
  request:on("validate", function(req)
    local copy = {}
    for k, v in pairs(req.params or {}) do copy[k] = v end
    rewrite(copy, req)
    req.params = copy
  end)
end

-- fn(httpRequest, request) runs once the request is built (method, url, headers, body, ...).
function support.after_build(request, fn)
  request:on("build", function(req) fn(req.httpRequest, req) end)
end

function support.set_header_unless_given(http, name, value)
  local lower = name:lower()
  for k in pairs(http.headers) do
    if k:lower() == lower then return end
  end
  http.headers[name] = value
end

-- A shallow copy of base with the fields of over on top (over may be nil).
function support.merged(base, over)
  local out = {}
  for k, v in pairs(base or {}) do out[k] = v end
  for k, v in pairs(over or {}) do out[k] = v end
  return out
end

-- scheme://host[:port] of a URL, and its host without the port.
function support.origin(url)
  local scheme, host = tostring(url):match("^(%a[%w+.-]*://)([^/?#]+)")
  if not scheme then return nil end
  return scheme .. host, (host:gsub(":%d+$", ""))
end

-- The request's URL with its origin replaced (the path and query are kept).
function support.move_to(http, origin, hostname)
  http.url = origin .. (http.url:match("^%a[%w+.-]*://[^/?#]*(.*)$") or "")
  http.hostname = hostname
end

-- A service whose endpoint is per customer sends nothing without one: its requests reject with
-- InvalidEndpoint (JavaScript refuses at construction; here any client can be made, as
-- AWS.<Class>({region = ...}) is for every class).
function support.require_endpoint(service, class, request)
  request:on("validate", function()
    local endpoint = service.config.endpoint
    if type(endpoint) ~= "string" or endpoint == "" or endpoint:find("{", 1, true) then
      error(Promise.make_error("InvalidEndpoint", "AWS." .. class .. " requires an explicit `endpoint' configuration option."), 0)
    end
  end)
end

-- Lambda, API Gateway exports, IoT shadows: a blob payload handed back as a string. Blobs are
-- already Lua strings here; this only makes sure an absent payload reads as "".
function support.payload_as_string(request, member)
  request:on("success", function(response)
    local data = response.data
    if type(data) == "table" and data[member] == nil then data[member] = "" end
  end)
end

return support
