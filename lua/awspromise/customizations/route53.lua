-- Route 53: Ids given as returned elsewhere ("/hostedzone/Z1", "/change/C2",
-- "/delegationset/N3") are sent as the bare id. PriorRequestNotComplete is retried (retry.lua).
local support = require "awspromise.customizations.support"

local PREFIXES = {"hostedzone", "change", "delegationset"}

local function bare(value)
  if type(value) ~= "string" then return value end
  for _, prefix in ipairs(PREFIXES) do
    local id = value:match("^/" .. prefix .. "/(.+)$")
    if id then return id end
  end
  return value
end

local function request_hook(_, request)
  support.rewrite_params(request, function(params)
    for name, value in pairs(params) do
      if type(name) == "string" and name:match("Id$") then params[name] = bare(value) end
    end
  end)
end

return {request = request_hook, bareId = bare}
