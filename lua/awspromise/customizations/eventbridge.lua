-- EventBridge: putEvents to a global endpoint (EndpointId) needs SigV4a, which the JavaScript
-- SDK v2 does not have either: refused with the same message.
local support = require "awspromise.customizations.support"

local function request_hook(_, request)
  if request.operation ~= "PutEvents" then return end
  request:on("validate", function(req)
    if (req.params or {}).EndpointId ~= nil then
      error(support.make_error("InvalidParameter", "EndpointId is not supported in current SDK.\n" ..
        "You should consider switching to V3(https://github.com/aws/aws-sdk-js-v3)."), 0)
    end
  end)
end

return {request = request_hook}
