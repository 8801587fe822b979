-- Lambda: invoke's Payload goes in as a string (a JSON text) and comes back as a string.
local support = require "awspromise.customizations.support"

local function request_hook(_, request)
  if request.operation == "Invoke" then support.payload_as_string(request, "Payload") end
end

return {request = request_hook}
